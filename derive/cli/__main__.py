"""`python -m derive.cli`: the same as the `derive` command."""

import sys

from . import main

sys.exit(main())
