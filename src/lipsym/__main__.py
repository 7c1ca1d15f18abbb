"""``python -m lipsym`` runs the CLI."""

import sys

from lipsym.cli import main

sys.exit(main())
