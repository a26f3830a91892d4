"""Alerts: rules declared in the inventory, evaluated over the live stream.

``config`` (what ``inventory.yaml`` may say under ``alerts:`` and ``notify:``), ``defaults``
(the rules on in a new install), ``conditions`` (what each rule kind checks), ``lifecycle``
and ``evaluate`` (pure: pending → firing → resolved), ``silences``, ``view`` (the latest
samples and states), ``events`` (the live hub adapter), ``history`` (stored alerts, acks and
silences), ``engine`` (the loop EGO runs) and ``rules_file`` (rule edits written back).
"""
