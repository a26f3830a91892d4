"""Per-container figures: cgroup v2 files and the container engines' names for them."""
