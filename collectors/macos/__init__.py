"""macOS hosts: the REFLECTOR program ``macos.sh`` and its parsers (see ``kind``)."""
