"""``python -m tinygrad_cnn``: the same command as ``tinygrad-cnn``."""

import sys

from tinygrad_cnn.cli import main

sys.exit(main())
