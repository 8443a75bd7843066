"""Tools to prove an op's gradients, public so users can test their own ops.

``gradcheck`` needs only NumPy; ``tinygrad_cnn.testing.strategies`` needs hypothesis.
"""

from tinygrad_cnn.testing.gradcheck import GradcheckError, gradcheck

__all__ = ["GradcheckError", "gradcheck"]
