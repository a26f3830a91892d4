"""The inventory: which subnets and hosts MIRROR STAGE watches, and how it reaches them.

``load_inventory`` reads ``inventory.yaml`` and reports every problem at once, each as
``file:line field: message``; ``Inventory.hosts_resolved`` gives each host with its SSH
settings merged (defaults < groups in listed order < host).
"""

from mirror.inventory.models import (
    OS_NAMES,
    Cable,
    CableEnd,
    Defaults,
    Group,
    HostConfig,
    HostEntry,
    Inventory,
    PollConfig,
    SecretRef,
    SnmpDevice,
    SnmpEntry,
    SshConfig,
    SshSettings,
    Subnet,
    resolve_password,
    resolve_secret,
)
from mirror.inventory.problems import InventoryError, Problem
from mirror.inventory.yamlfile import check_file, load_inventory

__all__ = [
    "OS_NAMES",
    "Cable",
    "CableEnd",
    "Defaults",
    "Group",
    "HostConfig",
    "HostEntry",
    "Inventory",
    "InventoryError",
    "PollConfig",
    "Problem",
    "SecretRef",
    "SnmpDevice",
    "SnmpEntry",
    "SshConfig",
    "SshSettings",
    "Subnet",
    "check_file",
    "load_inventory",
    "resolve_password",
    "resolve_secret",
]
