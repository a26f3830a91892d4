"""IF-MIB (RFC 2863): ifTable joined with ifXTable, and per-second rates between two polls.

Octet counters come from ifHCIn/OutOctets (Counter64) when the agent has them, else from
the 32-bit ifIn/OutOctets, which wrap every ~34 s at 1 Gbit/s; ``collectors.rates``
decides wrap vs reset. Errors and discards are Counter32 in IF-MIB. Speed: ifHighSpeed
(Mbit/s) when present and non-zero, else ifSpeed (bit/s, saturates at 4.29 Gbit/s).
Series are keyed by the interface's ifName (else ifDescr, else its ifIndex); a name two
interfaces share gets ``#ifIndex`` appended so neither is lost.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from collectors.rates import counter_rate
from collectors.snmp.walk import Value, Walk, integer, mac, table, text
from mirror.model import series_name

IF_ENTRY = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX_ENTRY = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)
ROOTS = (IF_ENTRY, IFX_ENTRY)

OPER_STATUS = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "notPresent",
    7: "lowerLayerDown",
}


@dataclass(frozen=True, slots=True)
class Interface:
    index: int
    name: str  # unique within the device; the series instance
    descr: str | None
    alias: str | None
    type: int | None  # IANAifType: 6 ethernetCsmacd, 24 softwareLoopback, 161 ieee8023adLag
    mac: str | None
    admin_up: bool | None
    oper: str | None
    speed_bps: int | None
    in_octets: int | None
    out_octets: int | None
    octet_bits: int  # 64 when the octets came from ifHC*, else 32
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None


def parse(walk: Walk) -> list[Interface]:
    """Interfaces in ifIndex order; a row is any index either table mentions."""
    if_rows = table(walk, IF_ENTRY)
    ifx_rows = table(walk, IFX_ENTRY)
    indexes = sorted({i for i in (*if_rows, *ifx_rows) if len(i) == 1})
    base: list[tuple[int, str, dict[int, Value], dict[int, Value]]] = []
    for (index,) in indexes:
        a, x = if_rows.get((index,), {}), ifx_rows.get((index,), {})
        name = text(x.get(1)) or text(a.get(2)) or str(index)
        base.append((index, name, a, x))
    seen = Counter(name for _, name, _, _ in base)
    return [_interface(i, n if seen[n] == 1 else f"{n}#{i}", a, x) for i, n, a, x in base]


def _interface(index: int, name: str, a: dict[int, Value], x: dict[int, Value]) -> Interface:
    hc_in, hc_out = integer(x.get(6)), integer(x.get(10))
    hc = hc_in is not None and hc_out is not None
    high_speed = integer(x.get(15))
    speed = high_speed * 1_000_000 if high_speed else integer(a.get(5))
    admin = integer(a.get(7))
    oper = integer(a.get(8))
    return Interface(
        index=index,
        name=name,
        descr=text(a.get(2)),
        alias=text(x.get(18)) or None,
        type=integer(a.get(3)),
        mac=mac(a.get(6)),
        admin_up=None if admin is None else admin == 1,
        oper=None if oper is None else OPER_STATUS.get(oper, str(oper)),
        speed_bps=speed,
        in_octets=hc_in if hc else integer(a.get(10)),
        out_octets=hc_out if hc else integer(a.get(16)),
        octet_bits=64 if hc else 32,
        in_errors=integer(a.get(14)),
        out_errors=integer(a.get(20)),
        in_discards=integer(a.get(13)),
        out_discards=integer(a.get(19)),
    )


_RATES = (
    ("rx_bytes", "in_octets"),
    ("tx_bytes", "out_octets"),
    ("rx_errors", "in_errors"),
    ("tx_errors", "out_errors"),
    ("rx_drops", "in_discards"),
    ("tx_drops", "out_discards"),
)


def metrics(
    prev: list[Interface] | None, cur: list[Interface], dt_s: float | None
) -> dict[str, float]:
    """State of every interface, and rates where ``prev`` is comparable (``dt_s`` not None).

    ``net.util_pct`` is the busier direction's bit rate over the link speed.
    """
    m: dict[str, float] = {}
    before = {i.index: i for i in prev} if prev is not None and dt_s is not None else {}
    for iface in cur:
        if iface.oper is not None:
            m[series_name("net.oper_up", iface.name)] = 1.0 if iface.oper == "up" else 0.0
        if iface.speed_bps:
            m[series_name("net.speed_bps", iface.name)] = float(iface.speed_bps)
        old = before.get(iface.index)
        if old is None or dt_s is None or old.name != iface.name:
            continue
        for metric, attr in _RATES:
            a, b = getattr(old, attr), getattr(iface, attr)
            if a is None or b is None:
                continue
            bits = iface.octet_bits if attr.endswith("octets") else 32
            if attr.endswith("octets") and old.octet_bits != iface.octet_bits:
                continue
            rate = counter_rate(a, b, dt_s, bits)
            if rate is not None:
                m[series_name(f"net.{metric}_per_s", iface.name)] = rate
        rx = m.get(series_name("net.rx_bytes_per_s", iface.name))
        tx = m.get(series_name("net.tx_bytes_per_s", iface.name))
        if iface.speed_bps and rx is not None and tx is not None:
            util = max(rx, tx) * 8 / iface.speed_bps * 100
            m[series_name("net.util_pct", iface.name)] = util
    return m


def by_index(interfaces: list[Interface]) -> dict[int, Interface]:
    return {i.index: i for i in interfaces}
