"""SNMP: pure parsers from a walk (OID → value) to typed samples, one module per MIB family.

A *walk* is what the poller (or a ``.snmprec`` recording) gives: ``{oid tuple: value}``
with integers as ``int``, OCTET STRINGs as ``bytes``, OIDs and IpAddresses as dotted ``str``.
"""
