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
from operator import methodcaller
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

from mirror.alerts.config import AlertsSection, NotifySection
from mirror.alerts.config import cross_check as alerts_cross_check
from mirror.errors import ConfigError
from mirror.inventory.placement import Site
from mirror.inventory.placement import cross_check as placement_cross_check
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
from mirror.jobs.config import JobEntry
from mirror.jobs.config import cross_check as jobs_cross_check

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


address_or_name = _address  # public: a tunnel's destination (mirror/control/tunnel_rules.py)


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
            if (
                isinstance(interval, int | float)
                and not isinstance(interval, bool)
                and 0 < interval < 4
            ):
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


MAX_SWEEP_ADDRESSES = 4096  # a /20; a bigger subnet is swept only in parts (RFC 7707 on v6)


class Subnet(_Model):
    """A subnet EGO sweeps with ICMP, and where Wake-on-LAN packets for its hosts go.

    ``sweep`` unset means: swept when it has at most ``MAX_SWEEP_ADDRESSES`` addresses.
    ``wol_broadcast`` unset means the subnet's own broadcast address (directed broadcast).
    """

    name: Name
    cidr: Annotated[IPv4Network | IPv6Network, PlainValidator(_cidr)]
    sweep: bool | None = None
    sweep_interval_s: Seconds = 30.0
    wol_broadcast: Annotated[str, AfterValidator(_address)] | None = None
    wol_port: Port = 9

    @property
    def sweeps(self) -> bool:
        return self.sweep if self.sweep is not None else self.sweep_size <= MAX_SWEEP_ADDRESSES

    @property
    def sweep_size(self) -> int:
        return self.cidr.num_addresses

    @field_validator("sweep")
    @classmethod
    def _sweepable(cls, value: bool | None, info: ValidationInfo) -> bool | None:
        cidr = info.data.get("cidr")
        size = cidr.num_addresses if cidr is not None else 0
        if value and size > MAX_SWEEP_ADDRESSES:
            raise ValueError(
                f"{cidr} has {size} addresses, more than a sweep's {MAX_SWEEP_ADDRESSES}: "
                "split it into smaller subnets or set sweep: false"
            )
        return value


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
    sudo: bool | None = None  # commands may ask for `sudo -n` on this host (issue 6)

    @model_validator(mode="after")
    def _one_password_source(self) -> Self:
        if self.password_env is not None and self.password_file is not None:
            raise ValueError("set only one of password_env and password_file")
        return self


# Operating systems a host can be (``os:`` on a host or group). Reading one needs a host
# kind (collectors/KINDS.md); a host whose OS has none yet gets a clear state, not a crash.
OS_NAMES = ("linux", "macos", "freebsd", "windows")


def _os_name(value: object) -> object:
    if isinstance(value, str) and value.lower() in OS_NAMES:
        return value.lower()
    listed = ", ".join(repr(c) for c in OS_NAMES)
    raise ValueError(f"unknown os {shown(value)}; must be one of {listed}")


OsName = Annotated[str, PlainValidator(_os_name)]


class Group(_Model):
    ssh: SshSettings | None = None
    os: OsName | None = None  # for every host of the group that sets none itself


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
    os: OsName | None = None  # None: ``uname -s`` on first contact says


_SNMP_VERSIONS = ("2c", "3")
SNMP_AUTH_PROTOCOLS = ("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")
SNMP_PRIV_PROTOCOLS = ("DES", "3DES", "AES", "AES192", "AES256")
DEFAULT_SNMP_PORT = 161


def _one_of(choices: tuple[str, ...]) -> Callable[[object], object]:
    def check(value: object) -> object:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # `version: 3` in YAML
        if isinstance(value, str) and value.upper() in (c.upper() for c in choices):
            return next(c for c in choices if c.upper() == value.upper())
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"must be one of {listed}, got {shown(value)}")

    return check


EnvName = Annotated[str, AfterValidator(_env_name)]


class SnmpEntry(_Model):
    """A switch, router, AP or NAS read over SNMP (v2c or v3); secrets only by reference."""

    name: Name
    address: Annotated[str, AfterValidator(_address)]
    port: Port = DEFAULT_SNMP_PORT
    version: Annotated[str, PlainValidator(_one_of(_SNMP_VERSIONS))] = "2c"
    community_env: EnvName | None = None
    community_file: Text | None = None
    user: Text | None = None
    auth_protocol: Annotated[str, PlainValidator(_one_of(SNMP_AUTH_PROTOCOLS))] = "SHA"
    auth_env: EnvName | None = None
    auth_file: Text | None = None
    priv_protocol: Annotated[str, PlainValidator(_one_of(SNMP_PRIV_PROTOCOLS))] = "AES"
    priv_env: EnvName | None = None
    priv_file: Text | None = None
    groups: list[Name] = Field(default_factory=list)
    tags: list[Text] = Field(default_factory=list)
    mac: Annotated[str, BeforeValidator(_mac)] | None = None
    interval_s: Seconds = 5.0  # interface counters, CPU, memory
    table_interval_s: Seconds = 60.0  # LLDP, MAC and ARP tables, sensors, interface names
    timeout_s: Seconds = 2.0  # per request; a poll may retry once within its interval
    retries: Annotated[int, Field(ge=0, le=5)] = 1

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        v3 = ("user", "auth_env", "auth_file", "priv_env", "priv_file")
        if self.version == "2c":
            if (self.community_env is None) == (self.community_file is None):
                raise ValueError("SNMP v2c needs exactly one of community_env and community_file")
            stray = [k for k in v3 if getattr(self, k) is not None]
            if stray:
                raise ValueError(f"{stray[0]} is for SNMP v3; this device has version '2c'")
            return self
        if self.community_env is not None or self.community_file is not None:
            raise ValueError(
                "community_env/community_file are for v2c; v3 uses user, auth_*, priv_*"
            )
        if self.user is None:
            raise ValueError("SNMP v3 needs user")
        if (self.auth_env is None) == (self.auth_file is None):
            raise ValueError("SNMP v3 needs exactly one of auth_env and auth_file")
        if self.priv_env is not None and self.priv_file is not None:
            raise ValueError("set only one of priv_env and priv_file")
        return self


class CableEnd(_Model):
    node: Name  # a host or SNMP device name
    port: Text | None = None  # the interface name on that node (ifName for SNMP gear)


class ActionEntry(_Model):
    """A named action (issue 6): ``command`` with ``{param}`` placeholders, each param a kind
    (service, package, word, integer); values are checked and shell-quoted at run time."""

    command: Text
    params: dict[str, str] = Field(default_factory=dict)
    sudo: bool = False
    confirm: bool = False
    description: str = ""
    groups: list[Name] = Field(default_factory=list)

    @model_validator(mode="after")
    def _placeholders_are_params(self) -> Self:
        from mirror.control.actions import PARAM_KINDS, placeholders

        named = placeholders(self.command)
        if named != set(self.params):
            raise ValueError(
                f"placeholders {sorted(named)} and params {sorted(self.params)} differ"
            )
        for name, kind in self.params.items():
            if kind not in PARAM_KINDS:
                raise ValueError(f"param {name!r}: kind must be one of {', '.join(PARAM_KINDS)}")
        return self


class Cable(_Model):
    """A cable the owner declares (patch panel labels and all); drawn even with no LLDP."""

    a: CableEnd
    b: CableEnd
    label: Text | None = None
    type: Text | None = None  # cat6, fibre, dac, ... (free text, shown in the room)
    colour: Text | None = None  # a CSS colour name or #rrggbb, drawn in the room


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret lives: an environment variable or a file; never the secret itself."""

    env: str | None
    file: Path | None


@dataclass(frozen=True, slots=True)
class SnmpDevice:
    name: str
    address: str
    port: int
    version: str  # "2c" or "3"
    community: SecretRef | None  # v2c
    user: str | None  # v3
    auth_protocol: str
    auth: SecretRef | None
    priv_protocol: str
    priv: SecretRef | None  # None: authNoPriv
    groups: tuple[str, ...]
    tags: tuple[str, ...]
    mac: str | None
    interval_s: float
    table_interval_s: float
    timeout_s: float
    retries: int


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
    sudo: bool = False  # `sudo -n` allowed for commands and actions


@dataclass(frozen=True, slots=True)
class HostConfig:
    name: str
    address: str
    groups: tuple[str, ...]
    tags: tuple[str, ...]
    mac: str | None
    local: bool
    ssh: SshConfig | None  # None for the local host
    os: str | None = None  # OS_NAMES; None: detected on first contact


class Inventory(_Model):
    poll: PollConfig = Field(default_factory=PollConfig)
    subnets: list[Subnet] = Field(default_factory=list)
    defaults: Defaults = Field(default_factory=Defaults)
    groups: dict[Name, Group] = Field(default_factory=dict)
    hosts: list[HostEntry] = Field(default_factory=list)
    snmp: list[SnmpEntry] = Field(default_factory=list)
    cables: list[Cable] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)  # placement (mirror/inventory/placement.py)
    actions: dict[Name, ActionEntry] = Field(default_factory=dict)
    alerts: AlertsSection = Field(default_factory=AlertsSection)  # mirror/alerts/config.py
    notify: NotifySection = Field(default_factory=NotifySection)
    jobs: dict[Name, JobEntry] = Field(default_factory=dict)  # mirror/jobs/config.py

    _source: str = PrivateAttr("<memory>")
    _base_dir: Path | None = PrivateAttr(None)
    _lines: Mapping[Loc, int] = PrivateAttr(default_factory=dict)

    @classmethod
    def from_dict(
        cls, data: object, source: str = "<demo>", *, base_dir: Path | None = None
    ) -> Inventory:
        """Validate ``data`` as the file would be; raises ``InventoryError``."""
        return validate(data, source, {}, base_dir)

    @property
    def source(self) -> str:
        return self._source

    def where(self, loc: Loc) -> str:
        """``file:line`` of a field (its nearest ancestor's line when it is not in the file)."""
        line = line_for(self._lines, loc)
        return self._source if line is None else f"{self._source}:{line}"

    def hosts_resolved(self) -> list[HostConfig]:
        return [self._resolve(host) for host in self.hosts]

    def snmp_resolved(self) -> list[SnmpDevice]:
        return [self._resolve_snmp(entry) for entry in self.snmp]

    def known_addresses(self) -> dict[str, str]:
        """Address → name of every host and SNMP device (the first one listed wins)."""
        known: dict[str, str] = {}
        items: list[HostEntry | SnmpEntry] = [*self.hosts, *self.snmp]
        for item in items:
            known.setdefault(item.address, item.name)
        return known

    def _resolve_snmp(self, entry: SnmpEntry) -> SnmpDevice:
        def ref(env: str | None, file: str | None) -> SecretRef | None:
            return None if env is None and file is None else SecretRef(env, self._path(file))

        return SnmpDevice(
            name=entry.name,
            address=entry.address,
            port=entry.port,
            version=entry.version,
            community=ref(entry.community_env, entry.community_file),
            user=entry.user,
            auth_protocol=entry.auth_protocol,
            auth=ref(entry.auth_env, entry.auth_file),
            priv_protocol=entry.priv_protocol,
            priv=ref(entry.priv_env, entry.priv_file),
            groups=tuple(entry.groups),
            tags=tuple(entry.tags),
            mac=entry.mac,
            interval_s=entry.interval_s,
            table_interval_s=max(entry.table_interval_s, entry.interval_s),
            timeout_s=entry.timeout_s,
            retries=entry.retries,
        )

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
                sudo=merged.get("sudo", False),
            )
        return HostConfig(
            name=host.name,
            address=host.address,
            groups=tuple(host.groups),
            tags=tuple(host.tags),
            mac=host.mac,
            local=host.local,
            ssh=ssh,
            os=self._os(host),
        )

    def _os(self, host: HostEntry) -> str | None:
        """The host's own ``os:``, else that of its last group that sets one (groups merge
        in listed order, as SSH settings do)."""
        if host.os is not None:
            return host.os
        named = [self.groups[g].os for g in host.groups if self.groups[g].os is not None]
        return named[-1] if named else None

    def _path(self, text: str | None) -> Path | None:
        if text is None:
            return None
        path = Path(text).expanduser()
        return self._base_dir / path if self._base_dir and not path.is_absolute() else path


def resolve_secret(ref: SecretRef, what: str, env: Mapping[str, str] | None = None) -> str:
    """Read a secret at use time from its env var or file; ``what`` names it in messages."""
    if ref.env is not None:
        value = (os.environ if env is None else env).get(ref.env)
        if not value:
            state = "is not set" if value is None else "is empty"
            raise ConfigError(f"{what}_env: environment variable {ref.env} {state}")
        return value
    assert ref.file is not None
    try:
        value = ref.file.read_text(encoding="utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise ConfigError(f"{what}_file {ref.file}: cannot read: {reason}") from None
    if not value:
        raise ConfigError(f"{what}_file {ref.file}: is empty")
    return value


def resolve_password(ssh: SshConfig, env: Mapping[str, str] | None = None) -> str | None:
    """Read the host's password from its env var or file, at connect time; None if it has none."""
    if ssh.password_env is None and ssh.password_file is None:
        return None
    return resolve_secret(SecretRef(ssh.password_env, ssh.password_file), "password", env)


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
    inventory._lines = lines
    return inventory


def cross_check(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Rules that span entries, checked on the raw data so they add to the field errors."""
    found: list[tuple[Loc, str]] = []
    groups = data.get("groups")
    group_names = [g for g in groups if isinstance(g, str)] if isinstance(groups, dict) else []
    subnets = data.get("subnets")
    for key in ("name", "cidr"):
        found += _duplicates("subnets", subnets, key, methodcaller("get", key))
    hosts = data.get("hosts")
    found += _duplicates("hosts", hosts, "name", lambda host: host.get("name"))
    found += _duplicates("hosts", hosts, "address", lambda host: _endpoint(data, host))
    found += _check_snmp_and_cables(data, group_names)
    node_names = [
        item["name"]
        for section in ("hosts", "snmp")
        for _, item in _mappings(data.get(section))
        if isinstance(item.get("name"), str)
    ]
    found += placement_cross_check(data, node_names)
    found += alerts_cross_check(data, group_names)
    found += jobs_cross_check(data, group_names)
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
    groups = data["groups"] if isinstance(data.get("groups"), dict) else {}
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


def _check_snmp_and_cables(
    data: Mapping[str, Any], group_names: list[str]
) -> list[tuple[Loc, str]]:
    """SNMP names share the hosts' namespace (both are nodes of the topology); cables join them."""
    found: list[tuple[Loc, str]] = []
    devices = data.get("snmp")
    found += _duplicates("snmp", devices, "name", lambda device: device.get("name"))
    host_names = {h.get("name") for _, h in _mappings(data.get("hosts"))}
    for i, device in _mappings(devices):
        if isinstance(device.get("name"), str) and device["name"] in host_names:
            message = f"name {device['name']!r} is already a host's; give the device its own"
            found.append((("snmp", i, "name"), message))
        for j, group in enumerate(_strings(device.get("groups"))):
            if group not in group_names:
                hint = did_you_mean(group, group_names)
                found.append((("snmp", i, "groups", j), f"unknown group {group!r}{hint}"))
    nodes = sorted(
        n for n in host_names | {d.get("name") for _, d in _mappings(devices)} if isinstance(n, str)
    )
    for i, cable in _mappings(data.get("cables")):
        for end in ("a", "b"):
            node = cable.get(end, {}).get("node") if isinstance(cable.get(end), dict) else None
            if isinstance(node, str) and node not in nodes:
                message = f"unknown node {node!r}{did_you_mean(node, nodes)} (a host or snmp name)"
                found.append((("cables", i, end, "node"), message))
    return found
