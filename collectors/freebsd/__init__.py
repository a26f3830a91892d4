"""FreeBSD hosts: the REFLECTOR program ``freebsd.sh`` and its parsers (see ``kind``)."""
