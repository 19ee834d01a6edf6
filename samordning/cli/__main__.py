"""``python -m samordning.cli``: the ``samordning`` command."""

import sys

from samordning.cli import main

sys.exit(main())
