"""tinygrad_cnn: a small, readable deep learning framework in pure NumPy.

The public face: Tensor and its factories, grad-mode switches and manual_seed.
"""

from tinygrad_cnn.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_cnn.random import manual_seed
from tinygrad_cnn.serialization import load, save
from tinygrad_cnn.creation import arange, eye, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from tinygrad_cnn.functions import cat, maximum, minimum, pad, stack, where
from tinygrad_cnn.tensor import Size, Tensor

__version__ = "0.1.0"

__all__ = [
    "Size", "Tensor", "arange", "cat", "enable_grad", "eye", "full", "is_grad_enabled", "load", "manual_seed", "maximum",
    "minimum", "no_grad", "ones", "ones_like", "pad", "rand", "randn", "save", "set_grad_enabled", "stack", "tensor",
    "where", "zeros", "zeros_like",
]
