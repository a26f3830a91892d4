"""EGO, the running service: wires poller, storage, live hub, API and jobs (and the demo)."""
