"""Einstein summation: ``parse_einsum`` turns torch's equation (letters, ``...``, an implicit or
explicit output) into explicit subscripts with every ellipsis spelled out, checked as torch
checks it; ``Einsum`` computes it as torch does (per-operand reductions, then batched matmuls
in pairs), and its backward is one einsum per input."""

from __future__ import annotations

import string
from typing import Sequence

import numpy as np

from tinygrad_cnn.autograd import Context, Function
from tinygrad_cnn.ops import parallel

LETTERS = string.ascii_uppercase + string.ascii_lowercase  # torch's order: A-Z are labels 0-25, a-z 26-51


def _split_terms(text: str, side: str) -> list[tuple[list[str], bool]]:
    """Each comma-separated term of ``text`` as (its letters, with "..." as one item; had an ellipsis)."""
    terms, offset = [], 0 if side == "input" else None
    for k, term in enumerate(text.split(",")):
        items, i, seen = [], 0, False
        where = "output" if side == "output" else f"operand {k}"
        while i < len(term):
            c = term[i]
            if c == ".":
                if term[i:i + 3] != "...":
                    raise RuntimeError(f"einsum(): found '.' for {where} that is not part of any ellipsis"
                                       + (" (...)" if side == "output" else ""))
                if seen:
                    raise RuntimeError(f"einsum(): found '.' for {where} for which an ellipsis was already found")
                items.append("...")
                seen, i = True, i + 3
                continue
            if c not in LETTERS:
                at = (offset or 0) + i
                raise RuntimeError(f"einsum(): invalid subscript given at index {at} in the equation string, "
                                   "subscripts must be in [a-zA-Z]")
            items.append(c)
            i += 1
        terms.append((items, seen))
        if offset is not None:
            offset += len(term) + 1
    return terms


def parse_einsum(equation: str, shapes: Sequence[tuple[int, ...]]) -> tuple[list[str], str, dict[str, int]]:
    """(each operand's subscripts, the output's subscripts, each letter's size) for torch's
    ``equation`` over operands of ``shapes``: ellipses become fresh letters (right-aligned,
    broadcast), an implicit output is the ellipsis then the letters used once, in torch's
    order. Sizes broadcast (1 against n); anything torch refuses raises its RuntimeError."""
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    if "->" in rhs or "-" in lhs or ">" in lhs:
        at = equation.index("-", len(lhs) + 2) if "->" in rhs else equation.index("-" if "-" in lhs else ">")
        raise RuntimeError(f"einsum(): invalid subscript given at index {at} in the equation string, "
                           "subscripts must be in [a-zA-Z]")
    terms = _split_terms(lhs, "input")
    if len(terms) > len(shapes):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(shapes):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    used = {c for items, _ in terms for c in items if c != "..."}
    ellipsis_ndim = 0
    for k, ((items, has_ellipsis), shape) in enumerate(zip(terms, shapes)):
        named = len(items) - has_ellipsis
        if (named != len(shape)) if not has_ellipsis else (named > len(shape)):
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) "
                               + ("is more than" if has_ellipsis else "does not match")
                               + f" the number of dimensions ({len(shape)}) for operand {k}"
                               + ("" if has_ellipsis else " and no ellipsis was given"))
        ellipsis_ndim = max(ellipsis_ndim, len(shape) - named if has_ellipsis else 0)
    fresh = [c for c in LETTERS if c not in used]
    if ellipsis_ndim > len(fresh):
        raise RuntimeError("einsum(): too many dimensions: the equation and its ellipsis need more than 52 subscripts")
    dots = "".join(fresh[:ellipsis_ndim])
    subscripts = []
    for (items, has_ellipsis), shape in zip(terms, shapes):
        width = len(shape) - (len(items) - has_ellipsis)
        subscripts.append("".join(dots[ellipsis_ndim - width:] if c == "..." else c for c in items))
    sizes = _letter_sizes(subscripts, shapes)
    if arrow:
        if "," in rhs:
            raise RuntimeError(f"einsum(): invalid subscript given at index {len(lhs) + 2 + rhs.index(',')} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
        items = _split_terms(rhs, "output")[0][0]
        output = "".join(dots if c == "..." else c for c in items)
        for c in output:
            if output.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
            if c not in sizes:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any "
                                   "input operand")
    else:
        counts = "".join(s for s in subscripts)
        output = dots + "".join(c for c in LETTERS if c not in dots and counts.count(c) == 1)
    return subscripts, output, sizes


def _letter_sizes(subscripts: list[str], shapes: Sequence[tuple[int, ...]]) -> dict[str, int]:
    """Each letter's size: a repeated letter within an operand must match exactly; across
    operands, sizes broadcast (1 against n), as torch."""
    sizes: dict[str, int] = {}
    for k, (subs, shape) in enumerate(zip(subscripts, shapes)):
        mine: dict[str, int] = {}
        for c, n in zip(subs, shape):
            if c in mine and mine[c] != n:
                raise RuntimeError(f"einsum(): subscript {c} is repeated for operand {k} but the sizes don't match, "
                                   f"{n} != {mine[c]}")
            mine[c] = n
        for c, n in mine.items():
            seen = sizes.get(c)
            if seen is None or seen == 1:
                sizes[c] = n
            elif n != 1 and n != seen:
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {k} which does not broadcast "
                                   f"with previously seen size {seen}")
    return sizes


def _full(array: np.ndarray, subs: str, sizes: dict[str, int]) -> np.ndarray:
    """``array`` broadcast over its size-1 dims to its letters' sizes (a view)."""
    shape = tuple(sizes[c] for c in subs)
    return array if array.shape == shape else np.broadcast_to(array, shape)


def _size(letters: list[str], sizes: dict[str, int]) -> int:
    return int(np.prod([sizes[c] for c in letters], dtype=np.int64))


def _contract(subscripts: list[str], output: str, arrays: list[np.ndarray], sizes: dict[str, int]) -> np.ndarray:
    """The einsum of ``arrays`` (indexed by ``subscripts``, no broadcasting left) onto ``output``,
    as torch computes it: each operand's diagonals and private letters reduced first, then the
    operands multiplied in pairs, left to right, each pair as one batched matmul (BLAS)."""
    ops = []
    for k, (subs, a) in enumerate(zip(subscripts, arrays)):
        needed = set(output).union(*(subscripts[:k] + subscripts[k + 1:]))
        kept = "".join(c for c in dict.fromkeys(subs) if c in needed)
        ops.append((kept, a if kept == subs else np.einsum(f"{subs}->{kept}", a)))
    while len(ops) > 1:
        (sa, a), (sb, b) = ops[0], ops[1]
        later = set(output).union(*(s for s, _ in ops[2:]))
        batch = [c for c in sa if c in sb and c in later]
        summed = [c for c in sa if c in sb and c not in later]
        left, right = [c for c in sa if c not in sb], [c for c in sb if c not in sa]
        a2 = a.transpose([sa.index(c) for c in batch + left + summed]).reshape(
            [_size(part, sizes) for part in (batch, left, summed)])
        b2 = b.transpose([sb.index(c) for c in batch + summed + right]).reshape(
            [_size(part, sizes) for part in (batch, summed, right)])
        letters = batch + left + right
        ops = [("".join(letters), (a2 @ b2).reshape(tuple(sizes[c] for c in letters)))] + ops[2:]
    subs, a = ops[0]
    out = a.transpose([subs.index(c) for c in output])
    if out.flags.c_contiguous and not any(np.may_share_memory(out, x) for x in arrays):
        return out
    return np.array(out, order="C")  # not a view of an input: writing into the result must not change one


class Einsum(Function):
    """The sum over the letters missing from ``output`` of the product of the operands,
    indexed by ``subscripts`` (from ``parse_einsum``: no ellipsis, sizes in ``sizes``).

    The gradient of operand k is the einsum of the output's gradient with the other operands
    onto k's letters; a letter only k has is broadcast, a letter k repeats (a diagonal) is
    written back onto that diagonal, a dim k broadcast from size 1 is summed by the engine.
    """

    @staticmethod
    def forward(ctx: Context, *arrays: np.ndarray, subscripts: tuple[str, ...], output: str,
                sizes: dict[str, int]) -> np.ndarray:
        parallel.prepare_process()  # BLAS on one thread per calling thread, as the matmul ops
        full = [_full(a, s, sizes) for a, s in zip(arrays, subscripts)]
        ctx.save_for_backward(*arrays)
        return _contract(list(subscripts), output, full, sizes)

    @staticmethod
    def backward(ctx: Context, grad: np.ndarray):
        subscripts, output, sizes = ctx.params["subscripts"], ctx.params["output"], ctx.params["sizes"]
        full = [_full(a, s, sizes) for a, s in zip(ctx.saved_tensors, subscripts)]
        grads = []
        for k, subs in enumerate(subscripts):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [s for j, s in enumerate(subscripts) if j != k]
            letters = "".join(dict.fromkeys(subs))
            reached = "".join(c for c in letters if c in output or any(c in s for s in others))
            g = _contract([output] + others, reached, [grad] + [a for j, a in enumerate(full) if j != k], sizes)
            if reached != letters:
                g = np.broadcast_to(np.expand_dims(g, tuple(i for i, c in enumerate(letters) if c not in reached)),
                                    tuple(sizes[c] for c in letters))
            if len(letters) != len(subs):
                g = _onto_diagonals(g, letters, subs, sizes)
            grads.append(g)
        return tuple(grads)


def _onto_diagonals(g: np.ndarray, letters: str, subs: str, sizes: dict[str, int]) -> np.ndarray:
    """Zeros of the shape ``subs`` names, with ``g`` (indexed by the distinct ``letters``) on the
    positions where a repeated letter's indices agree."""
    out = np.zeros(tuple(sizes[c] for c in subs), dtype=g.dtype)
    grids = np.ogrid[tuple(slice(0, sizes[c]) for c in letters)]
    out[tuple(grids[letters.index(c)] for c in subs)] = g
    return out
