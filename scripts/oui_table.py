"""Write mirror/data/oui.tsv.gz (the MAC vendor table) from the IEEE's oui.txt.

    .venv/bin/python scripts/oui_table.py [/usr/share/ieee-data/oui.txt]

Debian's ``ieee-data`` package ships the file (scripts/setup.sh installs it); nothing is
fetched over the network. The output is deterministic (sorted, gzip without a timestamp).
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mirror.oui import TABLE, parse_oui_txt, table_text

SOURCE = Path("/usr/share/ieee-data/oui.txt")


def build(source: Path) -> bytes:
    with source.open(encoding="utf-8", errors="replace") as f:
        text = table_text(parse_oui_txt(f))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else SOURCE
    if not source.is_file():
        print(f"{source} not found: install Debian's ieee-data (scripts/setup.sh)", file=sys.stderr)
        return 1
    data = build(source)
    TABLE.write_bytes(data)
    count = gzip.decompress(data).count(b"\n")
    print(f"{TABLE}: {count} OUIs from {source}, {len(data)} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
