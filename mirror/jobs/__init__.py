"""Scheduled jobs (issue 18): commands and named actions on hosts, groups and tags, on a
schedule, with history. ``config`` is the inventory's ``jobs:`` section, ``plan`` turns an
entry into what runs (the command, the targets, the trigger), ``history`` stores the runs.
The scheduler itself is ``poller/job_scheduler.py``; it runs on APScheduler with its job
store in EGO's database.
"""
