"""torch.linalg: norms, determinants, inverses, solves, decompositions (QR, SVD, symmetric
eigendecomposition, Cholesky) and what is built on them, batched over leading dims and
differentiable, with torch's names, arguments, named-tuple results and errors
(``LinAlgError`` for singular or non positive-definite inputs)."""

from tinygrad_cnn.linalg.decompositions import eigh, eigvalsh, lstsq, matrix_rank, pinv, qr, svd, svdvals
from tinygrad_cnn.linalg.matrix import (cholesky, cross, det, diagonal, inv, inv_ex, matrix_power, multi_dot, slogdet,
                                        solve, vecdot)
from tinygrad_cnn.linalg.norms import matrix_norm, norm, vector_norm
from tinygrad_cnn.ops.linalg import LinAlgError

__all__ = [
    "LinAlgError", "cholesky", "cross", "det", "diagonal", "eigh", "eigvalsh", "inv", "inv_ex", "lstsq", "matrix_norm",
    "matrix_power", "matrix_rank", "multi_dot", "norm", "pinv", "qr", "slogdet", "solve", "svd", "svdvals", "vecdot",
    "vector_norm",
]
