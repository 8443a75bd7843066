"""tinygrad_cnn: a small, readable deep learning framework in pure NumPy.

The public face, shaped as ``torch``'s (``import tinygrad_cnn as torch``): Tensor and its
factories, the torch.* functions, dtypes and devices, grad-mode switches, seeding and
threads. The submodules (``nn``, ``optim``, ``utils``, ``vision``, ``cuda``, ``backends``, ...)
are attributes imported on first use, so ``import tinygrad_cnn`` stays light.
"""

import importlib
import importlib.util
from types import ModuleType

import numpy as _np

from tinygrad_cnn import functions as _functions
from tinygrad_cnn.autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from tinygrad_cnn.compiler import compile
from tinygrad_cnn.creation import (
    BoolTensor, ByteTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, arange, as_tensor, empty,
    empty_like, eye, from_numpy, full, full_like, linspace, logspace, meshgrid, normal, ones, ones_like, rand,
    rand_like, randint, randint_like, randn, randn_like, randperm, tensor, zeros, zeros_like,
)
from tinygrad_cnn.devices import device, get_default_device, set_default_device
from tinygrad_cnn.dtypes import (
    bool, cdouble, cfloat, complex64, complex128, double, float, float16, float32, float64, get_default_dtype, half,
    int, int8, int16, int32, int64, long, promote_types, set_default_dtype, short, uint8,
)
from tinygrad_cnn.functions import *  # noqa: F403 (the torch.* functions; their names are in functions.__all__)
from tinygrad_cnn.inference import inference_mode, is_inference_mode_enabled
from tinygrad_cnn.random import Generator, initial_seed, manual_seed, seed
from tinygrad_cnn.random import get_rng_state, set_rng_state
from tinygrad_cnn.printing import get_printoptions, set_printoptions
from tinygrad_cnn.tensor_sampling import poisson
from tinygrad_cnn.linalg.functions import (block_diag, cartesian_prod, cdist, chain_matmul, einsum, tensordot,
                                           tril_indices, triu_indices, vander)
from tinygrad_cnn.serialization import load, save
from tinygrad_cnn.tensor import Size, Tensor
from tinygrad_cnn.ops.parallel import get_num_threads, set_num_threads

__version__ = "0.1.0"

dtype = _np.dtype  # isinstance(torch.float32, torch.dtype) holds
finfo, iinfo = _np.finfo, _np.iinfo

_DTYPES = ["bool", "cdouble", "cfloat", "complex64", "complex128", "double", "float", "float16", "float32", "float64",
           "half", "int", "int8", "int16", "int32", "int64", "long", "short", "uint8"]

# as torch's, __all__ holds float, int, bool, max, sum, abs...: `from tinygrad_cnn import *` shadows those builtins
__all__ = sorted(_functions.__all__ + _DTYPES + [
    "get_printoptions", "get_rng_state", "poisson", "set_printoptions", "set_rng_state",
    "block_diag", "cartesian_prod", "cdist", "chain_matmul", "einsum", "tensordot", "tril_indices", "triu_indices",
    "vander",
    "BoolTensor", "ByteTensor", "compile", "DoubleTensor", "FloatTensor", "Generator", "HalfTensor", "IntTensor", "LongTensor",
    "Size", "Tensor", "arange", "as_tensor", "device", "dtype", "empty", "empty_like", "enable_grad", "eye", "finfo",
    "from_numpy", "full", "full_like", "get_default_device", "get_default_dtype", "get_num_threads", "iinfo", "promote_types",
    "inference_mode", "initial_seed", "is_grad_enabled", "is_inference_mode_enabled", "linspace", "load",
    "logspace", "manual_seed", "meshgrid", "no_grad", "normal", "ones", "ones_like", "rand", "rand_like", "randint",
    "randint_like", "randn", "randn_like", "randperm", "save", "seed", "set_default_device", "set_default_dtype",
    "set_grad_enabled", "set_num_threads", "tensor", "zeros", "zeros_like",
])


def __getattr__(name: str) -> ModuleType:
    """Submodules on first use (``tinygrad_cnn.nn``, ``.optim``, ``.utils``, ``.cuda``, ...);
    anything else of torch's that is missing raises an AttributeError naming it."""
    if not name.startswith("__") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}: torch.{name} is not supported by tinygrad_cnn")
