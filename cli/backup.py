"""``mirror db backup`` and ``mirror db restore`` (mirror.storage.backup does the work)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from mirror.settings import Settings


def add_backup_commands(db_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = db_sub.add_parser(
        "backup",
        help="copy the whole database (samples, accounts, tokens, audit log) into one file",
    )
    p.add_argument(
        "file",
        nargs="?",
        type=Path,
        help="where to write it (default: DATA_DIR/backups/mirror-<time>.sqlite|.pgdump)",
    )
    p.set_defaults(func=cmd_db_backup)
    p = db_sub.add_parser(
        "restore", help="load a backup into $MIRROR_DATABASE_URL (SQLite file or empty PostgreSQL)"
    )
    p.add_argument("file", type=Path, help="a file `mirror db backup` wrote")
    p.add_argument(
        "--replace",
        action="store_true",
        help="SQLite: replace a database that holds data (the old file is kept beside it)",
    )
    p.set_defaults(func=cmd_db_restore)


def cmd_db_backup(args: argparse.Namespace) -> int:
    from mirror.storage import Store
    from mirror.storage.backup import backup, backup_name

    settings = Settings.from_env()
    with Store.open(settings.database_url) as store:
        dest = args.file or settings.backup_dir / backup_name(time.time(), store.dialect)
        done = backup(store, dest)
    print(f"backed up {store.url} to {done.path} ({done.size:,} bytes, {done.seconds:.1f} s)")
    return 0


def cmd_db_restore(args: argparse.Namespace) -> int:
    from mirror.audit import AuditLog
    from mirror.storage import Store
    from mirror.storage.backup import restore

    settings = Settings.from_env()
    kept = restore(settings.database_url, args.file, replace=args.replace)
    shown = Settings.redacted_url(settings.database_url)
    print(f"restored {args.file} into {shown}")
    if kept is not None:
        print(f"the database it replaced is kept as {kept}")
    with Store.open(settings.database_url) as store:
        report = AuditLog(store.engine).verify()
    print(report.text())
    return 0 if report.ok else 1
