"""torch.* linear-algebra functions that are not Tensor methods: einsum, tensordot,
chain_matmul, block_diag, cartesian_prod, tril_indices, triu_indices, cdist and vander
(exported at the top level of tinygrad_cnn, as torch's)."""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.dtypes import dtype_arg, get_default_dtype, scalar_type_name
from tinygrad_cnn.functions import cat, pad, stack
from tinygrad_cnn.linalg.matrix import multi_dot
from tinygrad_cnn.ops.einsum import LETTERS, Einsum, parse_einsum
from tinygrad_cnn.tensor import Tensor


def _scalar_types_agree(tensors: Sequence[Tensor]) -> None:
    for t in tensors[1:]:
        if t.dtype != tensors[0].dtype:
            raise RuntimeError(f"expected scalar type {scalar_type_name(tensors[0].dtype)} but found "
                               f"{scalar_type_name(t.dtype)}")


def _sublist(subscripts: Sequence[Any]) -> str:
    """torch's sublist form: 0-25 are A-Z, 26-51 a-z, Ellipsis is '...'."""
    out = []
    for s in subscripts:
        if s is Ellipsis:
            out.append("...")
        elif isinstance(s, (int, np.integer)) and 0 <= s < len(LETTERS):
            out.append(LETTERS[s])
        else:
            raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")
    return "".join(out)


def einsum(*args: Any) -> Tensor:
    """Einstein summation, as torch.einsum: ``einsum("ij,jk->ik", a, b)``, the operands also as
    one list, or the sublist form ``einsum(a, [0, 1], b, [1, 2], [0, 2])``. Letters a-z, A-Z and
    one "..." per term; an omitted output is the ellipsis dims, then the letters used once in
    alphabetical order (upper case first). Size-1 dims broadcast. Differentiable in every operand."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if isinstance(args[0], Tensor):  # the sublist form
        terms = [_sublist(s) for s in args[1::2]]
        operands = list(args[0::2])
        output = "->" + _sublist(operands.pop()) if len(args) % 2 else ""
        equation = ",".join(terms) + output
    else:
        equation, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    if not isinstance(equation, str):
        raise TypeError(f"einsum(): the equation must be a string, got {type(equation).__name__}")
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, got {type(t).__name__}")
    subscripts, output, sizes = parse_einsum(equation, [t.shape for t in operands])
    _scalar_types_agree(operands)
    return Einsum.apply(*operands, subscripts=tuple(subscripts), output=output, sizes=sizes)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2, out: Tensor | None = None) -> Tensor:
    """The sum of products over paired dims: ``dims`` an int n (a's last n with b's first n)
    or two lists (a's dims, b's dims); the result has a's free dims then b's, as torch.tensordot."""
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, (int, np.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError(f"both dimension lists should have same length, got {dims_a} and {dims_b}")
    if a.dtype != b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    letters = iter(LETTERS)
    subs_a = [next(letters) for _ in range(a.ndim)]
    subs_b = [next(letters) for _ in range(b.ndim)]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
        subs_b[db] = subs_a[da]
    shared = set(subs_a[d] for d in dims_a)
    output = [c for c in subs_a if c not in shared] + [c for c in subs_b if c not in shared]
    result = einsum(f"{''.join(subs_a)},{''.join(subs_b)}->{''.join(output)}", a, b)
    if out is not None:
        from tinygrad_cnn.functions import _write_into

        return _write_into(out, result, "tensordot")
    return result


def chain_matmul(*matrices: Tensor) -> Tensor:
    """The product of 2-D matrices, as torch's deprecated chain_matmul (use linalg.multi_dot)."""
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
                  "parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        if matrices[0].ndim != 2:
            raise RuntimeError(f"chain_matmul(): Tensor dimension is {matrices[0].ndim}, expected 2 instead.")
        return matrices[0].clone()
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    for i, t in enumerate(matrices):
        if t.ndim != 2:
            raise RuntimeError(f"chain_matmul(): tensor {i} must be 2D but got {t.ndim}D")
    return multi_dot(matrices)


def block_diag(*tensors: Tensor) -> Tensor:
    """The tensors (0-D: 1x1, 1-D: one row, 2-D) placed along the diagonal of a zero matrix
    (the sum of their rows by the sum of their columns, their common dtype), differentiable."""
    if not tensors:
        return Tensor.from_op(np.zeros((1, 0), dtype=get_default_dtype()), None)
    blocks = []
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t.ndim} dimensions")
        blocks.append(t.reshape(1, -1) if t.ndim < 2 else t)
    dtype = np.result_type(*(t.dtype for t in blocks))
    widths = [t.shape[1] for t in blocks]
    rows, before = [], 0
    for t, width in zip(blocks, widths):
        source = t if t.dtype == dtype else t.to(dtype)
        rows.append(pad(source, (before, sum(widths) - before - width)))
        before += width
    return cat(rows, 0)


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Every combination of one element from each 1-D tensor, (n1 * n2 * ..., k), the first
    tensor varying slowest (itertools.product's order); one tensor is returned as it is."""
    for t in tensors:
        if t.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    shape = tuple(t.shape[0] for t in tensors)
    columns = []
    for i, t in enumerate(tensors):
        columns.append(t.reshape(tuple(n if j == i else 1 for j, n in enumerate(shape))).expand(shape).reshape(-1))
    return stack(columns, 1)


def _triangle_indices(rows: int, cols: int, offset: int, dtype: Any, lower: bool) -> Tensor:
    if rows < 0 or cols < 0:
        raise RuntimeError(f"row must be non-negative, got {rows}" if rows < 0 else f"col must be non-negative, got {cols}")
    mask = np.tri(rows, cols, offset, dtype=bool) if lower else ~np.tri(rows, cols, offset - 1, dtype=bool)
    resolved = dtype_arg(dtype, "tril_indices" if lower else "triu_indices")
    return Tensor.from_op(np.stack(np.nonzero(mask)).astype(resolved).reshape(2, -1), None)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64, device: Any = None,
                 layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the lower triangle (on and below diagonal
    ``offset``) of a row x col matrix, row by row."""
    return _triangle_indices(row, col, offset, dtype, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = np.int64, device: Any = None,
                 layout: Any = None) -> Tensor:
    """The (2, N) row and column indices of the upper triangle (on and above diagonal
    ``offset``) of a row x col matrix, row by row."""
    return _triangle_indices(row, col, offset, dtype, False)


_MM_ELEMENTS = 1 << 22  # above this many differences, the euclidean distances go through a matmul


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"
          ) -> Tensor:
    """The p-norm distances (*, P, R) between the rows of x1 (*, P, M) and x2 (*, R, M), batch
    dims broadcast; for p = 2 on large inputs (or ``compute_mode`` "use_mm_for_euclid_dist")
    through ||a||^2 + ||b||^2 - 2 a.b, as torch. Differentiable (0 where a distance is 0)."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
        if x.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {scalar_type_name(x.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    modes = ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist")
    if compute_mode not in modes:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    _scalar_types_agree([x1, x2])
    batch = np.broadcast_shapes(x1.shape[:-2], x2.shape[:-2])
    a, b = x1.expand(batch + x1.shape[-2:]), x2.expand(batch + x2.shape[-2:])
    elements = int(np.prod(batch)) * a.shape[-2] * b.shape[-2] * a.shape[-1]
    if p == 2 and (compute_mode == modes[1] or compute_mode == modes[0] and elements > _MM_ELEMENTS):
        squares = (a * a).sum(-1).unsqueeze(-1) + (b * b).sum(-1).unsqueeze(-2) - 2 * (a @ b.mT)
        return squares.clamp_min(1e-30).sqrt()
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p, -1)


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """The Vandermonde matrix (n, N) of a 1-D tensor: columns x^(N-1), ..., x, 1 (ascending
    powers when ``increasing``); integer and bool inputs give int64. Differentiable."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    source = x if x.dtype.kind == "f" else x._cast(np.dtype(np.int64))
    ones = source.from_op(np.ones((source.shape[0], 1), dtype=source.dtype), None)
    if n == 0:
        return source.from_op(np.zeros((source.shape[0], 0), dtype=source.dtype), None)
    powers = cat([ones, source.unsqueeze(1).expand(source.shape[0], n - 1)], 1).cumprod(1)
    return powers if increasing else powers.flip(1)
