"""`python -m cli` runs the `mirror` command line."""

import sys

from cli.main import main

sys.exit(main())
