"""Notifications: alerts from :mod:`mirror.alerts` to people, through Apprise.

``channels`` (an Apprise URL read from its env var or file at send time, never kept),
``message`` (what a message says), ``router`` (routes and Alertmanager-style groups: pure),
``dispatcher`` (the task that sends: retries with backoff, per-channel rate limits, status).
May import ``mirror``; ``ego`` and ``cli`` import it.
"""
