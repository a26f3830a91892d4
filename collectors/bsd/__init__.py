"""Parsers shared by the BSD-family hosts (FreeBSD, macOS/Darwin): ``sysctl``, ``netstat -ib``
and BSD ``df`` output."""
