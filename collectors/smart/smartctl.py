"""``smartctl --scan -j`` and ``smartctl -a -j DEVICE``: disk health, for the slow cadence.

Source: smartmontools 7.0+ (JSON output, ``json_format_version`` 1), on Linux, the BSDs,
macOS and Windows alike. Read: the overall verdict (``smart_status.passed``), temperature
(``temperature.current``), power-on hours, and by protocol

* ATA/SATA: attributes 5 (reallocated sectors), 197 (pending), 198 (offline
  uncorrectable), raw values; a ``when_failed`` of ``now`` is a failing attribute;
* NVMe: ``nvme_smart_health_information_log``: ``percentage_used`` (wear),
  ``available_spare``, ``media_errors``, ``critical_warning``;
* SCSI/SAS: ``scsi_grown_defect_list`` (counted as reallocated).

``smartctl.exit_status`` is a bit mask (smartctl(8) "RETURN VALUES"): bit 1 the device
could not be opened (no rights, gone), bit 2 a SMART command failed, bit 3 "disk failing",
bit 4 pre-fail attributes at or below threshold now. Opening a disk needs root on every
system: a refusal becomes ``NEEDS_SUDO`` so the host's state can say so instead of an error.
Units: degrees Celsius, hours, sectors (counts), percent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mirror.errors import ParseError
from mirror.model import series_name

SCAN = "smartctl --scan -j"
DEVICE = "smartctl -a -j {device}"  # with "sudo -n " before it where the host allows
NEEDS_SUDO = "needs sudo for smartctl"
_OPEN_FAILED = 1 << 1
_FAILING = 1 << 3
_PREFAIL_NOW = 1 << 4
_ATTRS = {5: "reallocated_sectors", 197: "pending_sectors", 198: "offline_uncorrectable"}
_REFUSED = ("permission denied", "operation not permitted", "error=5", "access is denied")


@dataclass(frozen=True, slots=True)
class Disk:
    device: str
    protocol: str | None
    model: str | None
    serial: str | None
    passed: bool | None
    failing_attributes: tuple[str, ...] = ()
    temp_celsius: float | None = None
    power_on_hours: int | None = None
    reallocated_sectors: int | None = None
    pending_sectors: int | None = None
    offline_uncorrectable: int | None = None
    nvme_used_pct: int | None = None
    nvme_spare_pct: int | None = None
    media_errors: int | None = None
    critical_warning: int | None = None
    error: str | None = None


def scan(text: str) -> list[tuple[str, str]]:
    """``smartctl --scan -j`` → ``[(device, type)]`` to pass as ``-d TYPE DEVICE``."""
    doc = _load(text, "smartctl --scan")
    devices = doc.get("devices", [])
    if not isinstance(devices, list):
        raise ParseError("smartctl --scan: 'devices' is not a list")
    return [(str(d["name"]), str(d.get("type", "auto"))) for d in devices if "name" in d]


def parse(text: str, device: str | None = None) -> Disk:
    doc = _load(text, "smartctl")
    meta = doc.get("smartctl", {})
    status = meta.get("exit_status", 0) if isinstance(meta, dict) else 0
    dev = doc.get("device") or {}
    argv = meta.get("argv") if isinstance(meta, dict) else None
    name = str(dev.get("name") or device or (argv[-1] if argv else "?"))
    if status & _OPEN_FAILED and "smart_status" not in doc:
        messages = " ".join(str(m.get("string", "")) for m in meta.get("messages", []))
        refused = any(word in messages.lower() for word in _REFUSED)
        why = NEEDS_SUDO if refused else messages.strip() or "device open failed"
        return Disk(name, dev.get("protocol"), None, None, None, error=why)
    smart = doc.get("smart_status") or {}
    passed = smart.get("passed") if isinstance(smart.get("passed"), bool) else None
    if status & (_FAILING | _PREFAIL_NOW):
        passed = False
    attrs = _ata(doc)
    nvme = doc.get("nvme_smart_health_information_log") or {}
    reallocated = attrs.get("reallocated_sectors")
    if reallocated is None and isinstance(doc.get("scsi_grown_defect_list"), int):
        reallocated = doc["scsi_grown_defect_list"]
    return Disk(
        device=name,
        protocol=dev.get("protocol"),
        model=doc.get("model_name"),
        serial=doc.get("serial_number"),
        passed=passed,
        failing_attributes=tuple(attrs.get("_failing", ())),
        temp_celsius=_number((doc.get("temperature") or {}).get("current")),
        power_on_hours=_int((doc.get("power_on_time") or {}).get("hours")),
        reallocated_sectors=reallocated,
        pending_sectors=attrs.get("pending_sectors"),
        offline_uncorrectable=attrs.get("offline_uncorrectable"),
        nvme_used_pct=_int(nvme.get("percentage_used")),
        nvme_spare_pct=_int(nvme.get("available_spare")),
        media_errors=_int(nvme.get("media_errors")),
        critical_warning=_int(nvme.get("critical_warning")),
    )


def metrics(disks: list[Disk]) -> dict[str, float]:
    """Series per disk, named by device: ``smart.healthy[/dev/sda]`` (1 or 0) and the rest
    where the drive reports them."""
    m: dict[str, float] = {}
    for d in disks:
        if d.passed is not None:
            m[series_name("smart.healthy", d.device)] = 1.0 if d.passed else 0.0
        for key in ("temp_celsius", "power_on_hours", "reallocated_sectors", "pending_sectors",
                    "offline_uncorrectable", "nvme_used_pct", "nvme_spare_pct",
                    "media_errors"):  # fmt: skip
            value = getattr(d, key)
            if value is not None:
                m[series_name(f"smart.{key}", d.device)] = float(value)
    return m


def _ata(doc: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {"_failing": []}
    table = (doc.get("ata_smart_attributes") or {}).get("table") or []
    for attr in table:
        if not isinstance(attr, dict):
            continue
        if attr.get("when_failed") == "now":
            found["_failing"].append(str(attr.get("name", attr.get("id"))))
        attr_id = attr.get("id")
        key = _ATTRS.get(attr_id) if isinstance(attr_id, int) else None
        raw = (attr.get("raw") or {}).get("value")
        if key is not None and isinstance(raw, int):
            # Raw values of these counters hold the count in the low 32 bits; vendors
            # pack other fields above (as smartctl prints them, "raw48" low part).
            found[key] = raw & 0xFFFFFFFF
    return found


def _load(text: str, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ParseError(f"{what} printed no JSON (smartmontools before 7.0?): {exc}") from None
    if not isinstance(doc, dict) or ("json_format_version" not in doc and "device" not in doc):
        raise ParseError(f"{what} JSON is not smartctl's")
    return doc


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
