"""`mirror`: the command line (argument parsing, rendering, talking to a running EGO)."""
