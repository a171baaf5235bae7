"""``python -m medgrad_desktop``."""

import sys

from medgrad_desktop.cli import main

sys.exit(main())
