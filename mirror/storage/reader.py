"""What the API reads from storage: one small interface, whatever the database or layout.

``Store`` implements it; the API's services take a :class:`StoreReader` and know nothing of
tables, layouts or connections (a test, a cache or another store could stand in).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mirror.storage.health import StorageHealth
    from mirror.storage.query import SeriesResult
    from mirror.storage.store import HostRow


class StoreReader(Protocol):
    @property
    def health(self) -> StorageHealth:
        """The writer's backlog, the storage jobs and the database's own jobs."""
        ...

    def host_rows(self, *, info: bool = True) -> list[HostRow]:
        """Every stored host with its latest status and values (``info=False``: no info)."""
        ...

    def host_row(self, name: str) -> HostRow | None: ...

    def series_names(self, host: str) -> list[str]: ...

    def chart(
        self, host: str, name: str, start_ts: float, end_ts: float, *, stat: str = "avg"
    ) -> SeriesResult:
        """One series over a time range, at the tier that suits the span."""
        ...

    def fleet(
        self, name: str, start_ts: float, end_ts: float
    ) -> dict[str, list[tuple[float, float]]]:
        """Every host's series ``name`` as 1-minute averages (the last hour from memory)."""
        ...
