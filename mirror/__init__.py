"""MIRROR STAGE shared core: settings, inventory, storage, the live hub and the CLI."""
