"""A TOTP enrolment as a QR code (SVG text), drawn by segno as `mirror user add` draws it."""

from __future__ import annotations

import segno


def qr_svg(data: str) -> str:
    """The QR code of ``data`` as an SVG document: black on white, 4 px a module."""
    return str(segno.make(data, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff"))
