"""The rules that are on in a new install and in the demo (as Netdata ships its own).

Each can be overridden key by key or switched off by name in ``alerts.rules``:
``- {name: fs-full, expr: "fs.used_pct[*] > 95"}`` or ``- {name: load-per-core,
enabled: false}``; ``alerts.defaults: false`` drops them all.

Temperatures: no collector reads a sensor's own critical value yet, so ``temp-high`` uses a
fixed 90 °C (recovering under 85 °C) and ``gpu-hot`` 88 °C, near common CPU/GPU limits.
"""

from __future__ import annotations

from typing import Any

from mirror.alerts.config import KINDS, AlertsSection, RuleEntry

_RAW: list[dict[str, Any]] = [
    # Ping and SSH both silent: the machine (or its link) is down.
    {"name": "host-down", "state": ["unreachable", "timeout"], "ping": "down", "for": "1m",
     "severity": "critical", "kinds": ["host"], "summary": "host does not answer ping or SSH"},
    # Ping answers, SSH does not: the machine is up but EGO cannot read it.
    {"name": "ssh-unreachable", "state": ["unreachable", "timeout"], "ping": "up", "for": "2m",
     "severity": "warning", "kinds": ["host"], "summary": "host answers ping but not SSH"},
    {"name": "ssh-auth", "state": ["auth-failed", "hostkey-changed"], "severity": "critical",
     "kinds": ["host"], "summary": "SSH login refused or host key changed"},
    {"name": "snmp-down", "state": ["unreachable", "timeout"], "for": "1m",
     "severity": "critical", "kinds": ["snmp"], "summary": "SNMP device does not answer"},
    {"name": "no-data", "absent_polls": 6, "severity": "warning",
     "summary": "no sample for 6 poll intervals"},
    {"name": "fs-full", "expr": "fs.used_pct[*] > 90", "recover": 85, "for": "1m",
     "severity": "warning", "summary": "filesystem over 90 %"},
    {"name": "fs-full-soon", "trend": "fs.used_pct[*]", "reaches": 100, "within": "7d",
     "for": "10m", "severity": "warning", "summary": "filesystem full within 7 days"},
    {"name": "memory-full", "expr": "mem.used_pct > 95", "recover": 90, "for": "5m",
     "severity": "critical", "summary": "memory over 95 % for 5 minutes"},
    {"name": "temp-high", "expr": "temp.celsius[*] > 90", "recover": 85, "for": "1m",
     "severity": "critical", "summary": "temperature near the part's limit"},
    {"name": "gpu-hot", "expr": "gpu.temp_celsius[*] > 88", "recover": 82, "for": "1m",
     "severity": "critical", "summary": "GPU temperature near its limit"},
    {"name": "load-per-core", "expr": "load.5 > 2", "per_core": True, "recover": 1.5,
     "for": "10m", "severity": "warning", "summary": "5-minute load over 2 per core"},
    {"name": "net-errors", "expr": "net.rx_errors_per_s[*] > 1", "for": "5m",
     "severity": "warning", "summary": "interface receive errors"},
    {"name": "port-down", "expr": "net.oper_up[*] < 1", "was_up": True, "for": "30s",
     "kinds": ["snmp"], "severity": "warning", "summary": "switch port went down"},
]  # fmt: skip

DEFAULTS: dict[str, RuleEntry] = {}  # filled below: RuleEntry's validator reads this


def _build() -> None:
    for raw in _RAW:
        DEFAULTS[raw["name"]] = RuleEntry.model_validate(raw)


_build()


def effective_rules(section: AlertsSection) -> list[RuleEntry]:
    """The defaults (unless switched off) with the file's rules over them, enabled ones only."""
    rules: dict[str, RuleEntry] = dict(DEFAULTS) if section.defaults else {}
    for rule in section.rules:
        base = DEFAULTS.get(rule.name) if section.defaults else None
        if base is None:
            rules[rule.name] = rule
            continue
        update = {k: getattr(rule, k) for k in rule.model_fields_set}
        if any(k in update for k in KINDS):  # a new kind replaces the default's
            update |= {k: update.get(k) for k in KINDS}
        rules[rule.name] = base.model_copy(update=update)
    return [r for r in rules.values() if r.enabled]
