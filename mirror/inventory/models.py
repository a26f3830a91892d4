"""The inventory's models: what ``inventory.yaml`` may say, and hosts as the poller uses them.

The pydantic models mirror the file (every SSH field optional, since a host's settings
are layered: defaults < groups in the order the host lists them < the host). Merging
gives the frozen ``HostConfig``/``SshConfig`` the poller reads. Secrets are only ever
referenced (``password_env``, ``password_file``, ``key_file``); ``resolve_password``
reads one at connect time, so no model ever holds a password.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mirror.errors import ConfigError
from mirror.inventory.problems import (
    InventoryError,
    Loc,
    Problem,
    did_you_mean,
    field_path,
    from_pydantic,
    line_for,
    shown,
)

_NAME = re.compile(r"[A-Za-z0-9._-]+")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DNS_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_MAC = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}")
_PASSWORD_KEYS = frozenset({"password_env", "password_file"})
DEFAULT_SSH_PORT = 22


def _name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError(f"must be letters, digits, '.', '_' or '-', got {shown(value)}")
    return value


def _port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"must be 1-65535, got {value}")
    return value


def _env_name(value: str) -> str:
    # Never echo the value: someone may have pasted the password itself here.
    if not _ENV_NAME.fullmatch(value):
        raise ValueError(
            "must be the name of an environment variable (letters, digits, _), not the password"
        )
    return value


def _address(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.rstrip(".").split(".")
    # All-numeric dotted names are mistyped IPv4 addresses, not DNS names (RFC 1123 2.1).
    if len(value) > 253 or labels[-1].isdigit() or not all(map(_DNS_LABEL.fullmatch, labels)):
        raise ValueError(f"must be an IP address or a DNS name, got {shown(value)}")
    return value


def _mac(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 10:20:30:40:50:60 as a base-60 integer.
        raise ValueError('must be quoted in YAML ("aa:bb:cc:dd:ee:ff"); it was read as a number')
    if not isinstance(value, str):
        return value  # the str type check reports it
    if not _MAC.fullmatch(value.lower()):
        raise ValueError(f"must be a MAC address like aa:bb:cc:dd:ee:ff, got {shown(value)}")
    return value.lower().replace("-", ":")


def _cidr(value: object) -> IPv4Network | IPv6Network:
    if isinstance(value, IPv4Network | IPv6Network):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a network like 10.0.0.0/24, got {shown(value)}")
    try:
        return ipaddress.ip_network(value)
    except ValueError:
        pass
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"must be a network like 10.0.0.0/24, got {shown(value)}") from None
    raise ValueError(f"has host bits set: {value}; did you mean {network}?")


Name = Annotated[str, AfterValidator(_name)]
Text = Annotated[str, Field(min_length=1)]
Port = Annotated[int, AfterValidator(_port)]
Seconds = Annotated[float, Field(gt=0)]


class _Model(BaseModel):
    # strict: YAML already gives types, so `port: true` or `interval_s: "5"` is a mistake.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class PollConfig(_Model):
    """Cadence of the poll loop. ``timeout_s`` is each poll's deadline.

    ``timeout_s`` may equal ``interval_s`` but not exceed it (as Prometheus' scrape
    timeout): a poll that overran its interval would delay the next one. When unset it
    is ``min(4, interval_s)``, so ``interval_s: 2`` alone is valid.
    """

    interval_s: Seconds = 5.0
    timeout_s: Seconds = 4.0
    slow_every_s: Seconds = 30.0  # df, processes, GPUs, identity

    @model_validator(mode="before")
    @classmethod
    def _default_timeout(cls, data: Any) -> Any:
        if isinstance(data, dict) and "timeout_s" not in data:
            interval = data.get("interval_s")
            if type(interval) in (int, float) and 0 < interval < 4:
                return {**data, "timeout_s": interval}
        return data

    @field_validator("timeout_s", "slow_every_s")
    @classmethod
    def _against_interval(cls, value: float, info: ValidationInfo) -> float:
        interval = info.data.get("interval_s")
        if interval is None:
            return value
        if info.field_name == "timeout_s" and value > interval:
            raise ValueError(f"must be <= interval_s ({shown(interval)}), got {shown(value)}")
        if info.field_name == "slow_every_s" and value < interval:
            raise ValueError(f"must be >= interval_s ({shown(interval)}), got {shown(value)}")
        return value


class Subnet(_Model):
    name: Name
    cidr: Annotated[IPv4Network | IPv6Network, PlainValidator(_cidr)]


class SshSettings(_Model):
    """One layer of SSH settings (defaults, a group or a host); ``None`` = not set here."""

    user: Text | None = None
    port: Port | None = None
    key_file: Text | None = None
    agent: bool | None = None
    password_env: Annotated[str, AfterValidator(_env_name)] | None = None
    password_file: Text | None = None
    config_host: Text | None = None
    trust_on_first_use: bool | None = None
    connect_timeout_s: Seconds | None = None

    @model_validator(mode="after")
    def _one_password_source(self) -> Self:
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("set only one of password_env and password_file")
        return self


class Group(_Model):
    ssh: SshSettings | None = None


class Defaults(_Model):
    ssh: SshSettings | None = None


class HostEntry(_Model):
    name: Name
    address: Annotated[str, AfterValidator(_address)]
    groups: list[Name] = Field(default_factory=list)
    tags: list[Text] = Field(default_factory=list)
    mac: Annotated[str, BeforeValidator(_mac)] | None = None
    local: bool = False  # the EGO machine itself, read without SSH
    ssh: SshSettings | None = None


@dataclass(frozen=True, slots=True)
class SshConfig:
    """Merged SSH settings of one host.

    ``port`` is 22 when set nowhere, except with ``config_host``: then it stays ``None`` and
    the ``Host`` entry in ``~/.ssh/config`` supplies HostName/User/Port/IdentityFile (the
    poller dials the alias). ``user`` ``None`` means asyncssh's default (the local user).
    Paths are ``~``-expanded; relative ones are relative to the inventory file's folder.
    """

    user: str | None
    port: int | None
    key_file: Path | None
    agent: bool
    password_env: str | None
    password_file: Path | None
    config_host: str | None
    trust_on_first_use: bool
    connect_timeout_s: float


@dataclass(frozen=True, slots=True)
class HostConfig:
    name: str
    address: str
    groups: tuple[str, ...]
    tags: tuple[str, ...]
    mac: str | None
    local: bool
    ssh: SshConfig | None  # None for the local host


class Inventory(_Model):
    poll: PollConfig = Field(default_factory=PollConfig)
    subnets: list[Subnet] = Field(default_factory=list)
    defaults: Defaults = Field(default_factory=Defaults)
    groups: dict[Name, Group] = Field(default_factory=dict)
    hosts: list[HostEntry] = Field(default_factory=list)

    _source: str = PrivateAttr("<memory>")
    _base_dir: Path | None = PrivateAttr(None)

    @classmethod
    def from_dict(
        cls, data: object, source: str = "<demo>", *, base_dir: Path | None = None
    ) -> Inventory:
        """Validate ``data`` as the file would be; raises ``InventoryError``."""
        return validate(data, source, {}, base_dir)

    @property
    def source(self) -> str:
        return self._source

    def hosts_resolved(self) -> list[HostConfig]:
        return [self._resolve(host) for host in self.hosts]

    def _resolve(self, host: HostEntry) -> HostConfig:
        ssh = None
        if not host.local:
            layers = [self.defaults.ssh, *(self.groups[g].ssh for g in host.groups), host.ssh]
            merged: dict[str, Any] = {}
            for layer in layers:
                if layer is None:
                    continue
                values = layer.model_dump(exclude_none=True)
                if values.keys() & _PASSWORD_KEYS:
                    # A layer that names a password source replaces the one below it.
                    merged = {k: v for k, v in merged.items() if k not in _PASSWORD_KEYS}
                merged |= values
            ssh = SshConfig(
                user=merged.get("user"),
                port=merged.get("port", None if "config_host" in merged else DEFAULT_SSH_PORT),
                key_file=self._path(merged.get("key_file")),
                agent=merged.get("agent", False),
                password_env=merged.get("password_env"),
                password_file=self._path(merged.get("password_file")),
                config_host=merged.get("config_host"),
                trust_on_first_use=merged.get("trust_on_first_use", False),
                connect_timeout_s=merged.get("connect_timeout_s", 5.0),
            )
        return HostConfig(
            name=host.name,
            address=host.address,
            groups=tuple(host.groups),
            tags=tuple(host.tags),
            mac=host.mac,
            local=host.local,
            ssh=ssh,
        )

    def _path(self, text: str | None) -> Path | None:
        if text is None:
            return None
        path = Path(text).expanduser()
        return self._base_dir / path if self._base_dir and not path.is_absolute() else path


def resolve_password(ssh: SshConfig, env: Mapping[str, str] | None = None) -> str | None:
    """Read the host's password from its env var or file, at connect time; None if it has none."""
    if ssh.password_env is not None:
        value = (os.environ if env is None else env).get(ssh.password_env)
        if not value:
            state = "is not set" if value is None else "is empty"
            raise ConfigError(f"password_env: environment variable {ssh.password_env} {state}")
        return value
    if ssh.password_file is not None:
        try:
            value = ssh.password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            raise ConfigError(f"password_file {ssh.password_file}: cannot read: {reason}") from None
        if not value:
            raise ConfigError(f"password_file {ssh.password_file}: is empty")
        return value
    return None


def validate(
    data: object, source: str, lines: Mapping[Loc, int], base_dir: Path | None
) -> Inventory:
    """Check ``data`` fully (fields, then cross-field rules); raise with every problem found."""
    if not isinstance(data, dict):
        message = "the top level must be a mapping (poll, subnets, defaults, groups, hosts)"
        message += f", got {shown(data)}"
        raise InventoryError([Problem(source, line_for(lines, ()), "", message)])
    found: list[tuple[Loc, str]] = []
    inventory = None
    try:
        inventory = Inventory.model_validate(data)
    except ValidationError as e:
        found += [from_pydantic(error, Inventory) for error in e.errors()]
    found += cross_check(data)
    if found:
        problems = [Problem(source, line_for(lines, at), field_path(at), m) for at, m in found]
        raise InventoryError(sorted(problems, key=lambda p: p.line or 0))
    assert inventory is not None
    inventory._source = source
    inventory._base_dir = base_dir
    return inventory


def cross_check(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Rules that span entries, checked on the raw data so they add to the field errors."""
    found: list[tuple[Loc, str]] = []
    groups = data.get("groups")
    group_names = [g for g in groups if isinstance(g, str)] if isinstance(groups, dict) else []
    subnets = data.get("subnets")
    for key in ("name", "cidr"):
        found += _duplicates("subnets", subnets, key, lambda item, key=key: item.get(key))
    hosts = data.get("hosts")
    found += _duplicates("hosts", hosts, "name", lambda host: host.get("name"))
    found += _duplicates("hosts", hosts, "address", lambda host: _endpoint(data, host))
    local_at = None
    for i, host in _mappings(hosts):
        host_groups = host.get("groups")
        for j, group in enumerate(host_groups if isinstance(host_groups, list) else []):
            if isinstance(group, str) and group not in group_names:
                hint = did_you_mean(group, group_names)
                found.append((("hosts", i, "groups", j), f"unknown group {group!r}{hint}"))
        if host.get("local") is True:
            if local_at is not None:
                message = f"only one host can be local: true (hosts[{local_at}] is)"
                found.append((("hosts", i, "local"), message))
            local_at = i if local_at is None else local_at
            if host.get("ssh") is not None:
                found.append((("hosts", i, "ssh"), "a local host is read without SSH; remove ssh"))
    return found


def _mappings(items: object) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, dict)]


def _duplicates(
    section: str, items: object, key: str, value_of: Callable[[dict[str, Any]], object]
) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    first: dict[object, int] = {}
    for i, item in _mappings(items):
        value = value_of(item)
        if value is None or not _hashable(value):
            continue  # a wrong type: the field check reports it
        if value in first:
            what = item.get(key)
            message = f"duplicate {key} {shown(what)}: already used by {section}[{first[value]}]"
            found.append(((section, i, key), message))
        else:
            first[value] = i
    return found


def _endpoint(data: Mapping[str, Any], host: Mapping[str, Any]) -> tuple[str, object] | None:
    """What makes two host entries the same machine: address plus SSH port (None if local).

    The same address on different ports is allowed: NAT port forwards, or simulated hosts.
    """
    address = host.get("address")
    if not isinstance(address, str):
        return None
    if host.get("local") is True:
        return address.lower(), None
    groups = data.get("groups") if isinstance(data.get("groups"), dict) else {}
    layers = [data.get("defaults"), *(groups.get(g) for g in _strings(host.get("groups"))), host]
    port: object = DEFAULT_SSH_PORT
    for layer in layers:
        ssh = layer.get("ssh") if isinstance(layer, dict) else None
        if isinstance(ssh, dict) and ssh.get("port") is not None:
            port = ssh["port"]
    return address.lower(), port


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _strings(items: object) -> list[str]:
    return [i for i in items if isinstance(i, str)] if isinstance(items, list) else []
