"""Storage: batched writes of snapshots and statuses, small read queries (see ``store``)."""

from mirror.storage.store import HostRow, Store, database_url

__all__ = ["HostRow", "Store", "database_url"]
