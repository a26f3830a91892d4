"""What to run on each kind of target and how to read its answer.

Everything here is pure: text (or bytes) in, typed samples out. No sockets, no
subprocesses, no clocks. The poller owns I/O and time.
"""
