"""Disk health from ``smartctl --json`` (smartmontools 7.0+), for every host kind."""
