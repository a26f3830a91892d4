"""Files EGO reads at run time that are not Python modules: the built web UI and the
Alembic migrations.

In a source checkout they are where the repository keeps them (``web/dist``, ``web/minimal``,
``migrations``). An installed wheel carries them inside this package, in ``mirror/_data/``
(setup.py copies them there at build time), so ``pip install mirror_stage-….whl`` brings the
built UI with it and nothing needs npm or the source tree on the target.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_SOURCE_TREE = _PACKAGE.parent
INSTALLED_DATA = _PACKAGE / "_data"


def resource(relative: str) -> Path:
    """Where ``relative`` (``"web/dist"``, ``"migrations"``) is: the source tree's copy when
    running from a checkout, else the installed copy (which may be missing: callers check)."""
    if (_SOURCE_TREE / "pyproject.toml").is_file() and (_SOURCE_TREE / relative).exists():
        return _SOURCE_TREE / relative
    return INSTALLED_DATA / relative
