"""Services and upkeep: systemd units, pending reboot, pending updates."""
