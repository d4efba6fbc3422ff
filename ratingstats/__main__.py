"""``python -m ratingstats`` is the same as ``drugratings-stats``."""

import sys

from .cli import main

sys.exit(main())
