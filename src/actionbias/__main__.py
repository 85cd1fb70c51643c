"""Allow `python -m actionbias`."""

import sys

from actionbias.cli import main

sys.exit(main())
