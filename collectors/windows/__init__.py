"""Windows hosts over their OpenSSH server: a PowerShell REFLECTOR and its parsers."""
