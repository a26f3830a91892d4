"""The inventory's ``jobs:`` section: valid jobs load, each mistake is refused with
``file:line field: message``, and a reload that finds one keeps the running jobs."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from mirror.inventory import InventoryError
from mirror.inventory.diff import diff_inventories
from mirror.inventory.yamlfile import parse_inventory

HEAD = """\
groups:
  servers: {}
hosts:
  - name: web
    address: 127.0.0.31
    groups: [servers]
    tags: [debian]
  - name: nas
    address: 127.0.0.32
actions:
  greet:
    command: echo hello {who}
    params: {who: word}
jobs:
"""


def load(jobs: str) -> object:
    return parse_inventory(
        HEAD + textwrap.indent(textwrap.dedent(jobs), "  "), "inv.yaml", Path(".")
    )


def problems(jobs: str) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        load(jobs)
    return [str(p) for p in caught.value.problems]


def test_a_valid_section_loads_with_its_defaults() -> None:
    inventory = load(
        """
        apt-update:
          command: apt-get update -q
          sudo: true
          targets: {groups: [servers], tags: [debian]}
          schedule: {cron: "0 3 * * 1-5", timezone: Europe/Berlin}
          timeout: 10m
          on_failure: notify
          jitter: 2m
        hello:
          action: greet
          params: {who: world}
          targets: {hosts: [nas]}
          schedule: {every: 6h}
        once:
          command: uptime
          targets: {hosts: [web]}
          schedule: {at: 2026-12-24T18:00:00}
        by-hand:
          command: "true"
          targets: {hosts: [web, nas]}
        """
    )
    jobs = inventory.jobs  # type: ignore[attr-defined]
    assert jobs["apt-update"].timeout == 600.0
    assert jobs["apt-update"].on_failure == ["notify"]
    assert jobs["apt-update"].jitter == 120.0
    assert jobs["apt-update"].misfire == "run_once"
    assert jobs["hello"].schedule.every == 6 * 3600
    assert jobs["once"].schedule.when().isoformat() == "2026-12-24T18:00:00+00:00"
    assert jobs["by-hand"].schedule is None


BAD = {
    "invalid-cron": (
        """
        j:
          command: "true"
          targets: {hosts: [web]}
          schedule: {cron: "61 3 * * *"}
        """,
        "inv.yaml:19 jobs.j.schedule: invalid cron expression '61 3 * * *': "
        "Error validating expression '61': "
        "the last value (61) is higher than the maximum value (59)",
    ),
    "cron-fields": (
        """
        j:
          command: "true"
          targets: {hosts: [web]}
          schedule: {cron: "0 3 * *"}
        """,
        "inv.yaml:19 jobs.j.schedule: cron must have 5 fields (minute hour day month weekday), "
        "got 4: '0 3 * *'",
    ),
    "time-zone": (
        """
        j:
          command: "true"
          targets: {hosts: [web]}
          schedule: {cron: "0 3 * * *", timezone: Mars/Olympus}
        """,
        "inv.yaml:19 jobs.j.schedule: unknown time zone 'Mars/Olympus' "
        "(an IANA name such as Europe/Berlin)",
    ),
    "unknown-host": (
        """
        j:
          command: "true"
          targets:
            hosts: [web, nsa]
        """,
        "inv.yaml:19 jobs.j.targets.hosts[1]: unknown host 'nsa'; did you mean 'nas'?",
    ),
    "unknown-group": (
        """
        j:
          command: "true"
          targets:
            groups:
              - server
        """,
        "inv.yaml:20 jobs.j.targets.groups[0]: unknown group 'server'; did you mean 'servers'?",
    ),
    "unknown-action": (
        """
        j:
          action: restart-servce
          targets: {hosts: [web]}
        """,
        "inv.yaml:17 jobs.j.action: unknown action 'restart-servce'; "
        "did you mean 'restart-service'?",
    ),
    "bad-param": (
        """
        j:
          action: restart-service
          params: {service: "nginx; rm -rf /"}
          targets: {hosts: [web]}
        """,
        "inv.yaml:18 jobs.j.params: parameter 'service' must be a systemd unit name "
        "(letters, digits, ':', '_', '.', '@', '-'), got 'nginx; rm -rf /'",
    ),
    "unconfirmed-reboot": (
        """
        j:
          action: reboot
          targets: {hosts: [web]}
        """,
        "inv.yaml:16 jobs.j.confirm: action 'reboot' needs confirmation (confirm: true)",
    ),
    "both": (
        """
        j:
          action: greet
          command: "true"
          targets: {hosts: [web]}
        """,
        "inv.yaml:16 jobs.j: give exactly one of command, action or steps",
    ),
    "two-schedules": (
        """
        j:
          command: "true"
          targets: {hosts: [web]}
          schedule: {cron: "0 3 * * *", every: 1h}
        """,
        "inv.yaml:19 jobs.j.schedule: give exactly one of cron, every or at (got cron and every)",
    ),
    "no-targets": (
        """
        j:
          command: "true"
          targets: {}
        """,
        "inv.yaml:18 jobs.j.targets: name at least one of hosts, groups or tags",
    ),
    "on-failure": (
        """
        j:
          command: "true"
          targets: {hosts: [web]}
          on_failure: [page]
        """,
        "inv.yaml:19 jobs.j.on_failure[0]: must be 'notify' or 'stop', got 'page'",
    ),
    "misfire": (
        """
        j:
          command: "true"
          targets: {hosts: [web]}
          misfire: later
        """,
        "inv.yaml:19 jobs.j.misfire: must be 'skip' or 'run_once', got 'later'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_mistake_is_refused_with_file_line_and_field(case: str) -> None:
    jobs, expected = BAD[case]
    assert problems(jobs) == [expected]


def test_a_changed_job_is_a_changed_section() -> None:
    a = load('j: {command: "true", targets: {hosts: [web]}}\n')
    b = load('j: {command: "false", targets: {hosts: [web]}}\n')
    assert diff_inventories(a, b).sections == ("jobs",)  # type: ignore[arg-type]
