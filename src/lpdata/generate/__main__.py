"""``python -m lpdata.generate``: the generator's command line (lpdata.generate.cli)."""

import sys

from .cli import main

sys.exit(main())
