"""`python -m thalex_trio`."""

import sys

from thalex_trio.cli import main

sys.exit(main())
