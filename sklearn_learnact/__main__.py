"""``python -m sklearn_learnact``: the ``learnact`` command."""

import sys

from .cli import main

sys.exit(main())
