"""`python -m wubloader` runs the CLI."""

import sys

from wubloader.cli import main

sys.exit(main())
