"""Build hook: the wheel carries the built web UI and the migrations (mirror/resources.py).

Everything else is in pyproject.toml. ``web/dist`` must be built first
(``cd web && npm ci && npm run build``, which ``scripts/setup.sh`` does): a wheel without the
UI would install an EGO that serves only the minimal page, so the build refuses.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DATA = ("web/dist", "web/minimal", "migrations")


class BuildWithData(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        if not (ROOT / "web" / "dist" / "index.html").is_file():
            raise SystemExit("web/dist is not built: run `cd web && npm ci && npm run build`")
        target = Path(self.build_lib) / "mirror" / "_data"
        for relative in DATA:
            shutil.copytree(
                ROOT / relative,
                target / relative,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
                dirs_exist_ok=True,
            )


setup(cmdclass={"build_py": BuildWithData})
