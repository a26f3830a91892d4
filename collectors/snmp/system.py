"""SNMPv2-MIB system group (RFC 3418) plus the uptimes that stand in when sysUpTime is absent.

Not every agent answers sysUpTime (the QNAP and OpenWrt recordings do not); HOST-RESOURCES'
hrSystemUptime and, over SNMPv3, snmpEngineTime are read instead. Units: seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.snmp.walk import Walk, integer, scalar, text

SYSTEM = (1, 3, 6, 1, 2, 1, 1)
HR_SYSTEM_UPTIME = (1, 3, 6, 1, 2, 1, 25, 1, 1)
SNMP_ENGINE_TIME = (1, 3, 6, 1, 6, 3, 10, 2, 1, 3)
# What one GET asks for (scalars, so ``.0`` appended).
OIDS = (
    *((*SYSTEM, col, 0) for col in (1, 2, 3, 4, 5, 6)),
    (*HR_SYSTEM_UPTIME, 0),
    (*SNMP_ENGINE_TIME, 0),
)


@dataclass(frozen=True, slots=True)
class System:
    descr: str | None
    object_id: str | None
    uptime_s: float | None  # sysUpTime, else hrSystemUptime, else snmpEngineTime
    contact: str | None
    name: str | None
    location: str | None


def parse(walk: Walk) -> System:
    ticks = integer(scalar(walk, (*SYSTEM, 3)))
    if ticks is None:
        ticks = integer(scalar(walk, HR_SYSTEM_UPTIME))
    engine_s = integer(scalar(walk, SNMP_ENGINE_TIME))
    object_id = scalar(walk, (*SYSTEM, 2))
    return System(
        descr=text(scalar(walk, (*SYSTEM, 1))),
        object_id=object_id if isinstance(object_id, str) else None,
        uptime_s=ticks / 100 if ticks is not None else engine_s,
        contact=text(scalar(walk, (*SYSTEM, 4))),
        name=text(scalar(walk, (*SYSTEM, 5))),
        location=text(scalar(walk, (*SYSTEM, 6))),
    )


def rebooted(prev_uptime_s: float | None, cur_uptime_s: float | None, wall_dt_s: float) -> bool:
    """True when the device restarted between two polls ``wall_dt_s`` apart on EGO's clock.

    sysUpTime is TimeTicks (32-bit hundredths, wraps after ~497 days): a step back that a
    wrap explains (the device's own advance then matches EGO's clock within 10 s) is not
    a reboot. An uptime that does not move at all (a simulator's recording) is not one either.
    """
    if prev_uptime_s is None or cur_uptime_s is None or cur_uptime_s >= prev_uptime_s:
        return False
    wrapped_advance = cur_uptime_s + 2**32 / 100 - prev_uptime_s
    return abs(wrapped_advance - wall_dt_s) > 10.0
