"""The inventory a running EGO works from, which a reload replaces while it runs.

Readers (the API's services) ask for it on each use instead of keeping the one they were
built with. A reload swaps in a whole new, validated ``Inventory`` (frozen models), so a
request that already holds the old one finishes with a consistent view of it.
"""

from __future__ import annotations

from mirror.inventory.models import Inventory


class CurrentInventory:
    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory

    def get(self) -> Inventory:
        return self._inventory

    def replace(self, inventory: Inventory) -> None:
        self._inventory = inventory


def as_current(inventory: Inventory | CurrentInventory) -> CurrentInventory:
    """A fixed ``Inventory`` (tests, an app without a poller) as a holder nobody swaps."""
    return inventory if isinstance(inventory, CurrentInventory) else CurrentInventory(inventory)
