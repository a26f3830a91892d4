"""MIRROR STAGE shared core: settings, inventory, storage, the live hub and the CLI."""

import warnings

# cryptography ≥ 51 warns at import time that DSA is deprecated wherever asyncssh names the
# DSA key types; asyncssh still imports them, and the warning on every `mirror` command's
# stderr tells a user nothing they can act on. Every room imports mirror before asyncssh.
warnings.filterwarnings("ignore", message=r"DSA is deprecated", module=r"asyncssh\.")
