"""``Module.summary()``'s result: a layer table (torchinfo-like) shown as text by ``print``/``repr``
and as an HTML table by Jupyter (``_repr_html_``).

``Summary`` is a ``str`` (so ``"Total params" in model.summary()`` and ``print`` work as before)
whose ``repr`` is the table itself, not an escaped one-line string. Columns: layer (qualified
name), type, kernel (``kernel_size`` of conv/pool layers), output shape, parameters of its own;
then the totals and a memory estimate (parameters, and the activations of one forward pass at
the summary's batch size).
"""

from __future__ import annotations

import ast
import html
import math
from typing import Any, Sequence

HEADER = ("Layer", "Type", "Kernel", "Output Shape", "Param #")


def _kernel(module: Any) -> str:
    size = getattr(module, "kernel_size", None)
    if size is None:
        return "-"
    return "x".join(str(k) for k in size) if isinstance(size, (tuple, list)) else f"{size}x{size}"


def _numel(shape: str) -> int:
    """Elements of an output shape as the table writes it, "(1, 6, 24, 24)"; 0 when not one tensor's."""
    try:
        dims = ast.literal_eval(shape)
    except (ValueError, SyntaxError):
        return 0
    return math.prod(dims) if isinstance(dims, tuple) and all(isinstance(d, int) for d in dims) else 0


def _megabytes(n_bytes: int) -> str:
    return f"{n_bytes / 2**20:,.2f} MB"


class Summary(str):
    """The summary table of ``model`` for ``input`` (its full input shape, batch included).

    ``rows`` are (layer, type, output shape, param count) as Module.summary collects them, in
    call order; ``output`` the model's output shape, ``total``/``trainable`` its parameter
    counts, ``itemsize`` the bytes of one element. The attributes ``rows`` (with the kernel
    column), ``total_params``, ``trainable_params``, ``param_bytes`` and ``activation_bytes``
    hold the figures.
    """

    rows: list[tuple[str, ...]]

    def __new__(cls, model: Any, input: Sequence[int], rows: Sequence[Sequence[str]], output: str, total: int,
                trainable: int, itemsize: int = 4) -> "Summary":
        modules = dict(model.named_modules())
        table = [(name, kind, _kernel(modules.get(name)), shape, params) for name, kind, shape, params in rows]
        param_bytes = total * itemsize
        activation_bytes = sum(_numel(row[3]) for row in table) * itemsize
        title = f"{type(model).__name__} summary, input shape {tuple(input)}"
        footer = [f"Output shape: {output}", f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}",
                  f"Params size: {_megabytes(param_bytes)}",
                  f"Forward activations: {_megabytes(activation_bytes)} (batch {input[0]})",
                  f"Estimated total: {_megabytes(param_bytes + activation_bytes + math.prod(input) * itemsize)}"
                  " (input, activations, params)"]
        widths = [max(len(r[i]) for r in table + [HEADER]) for i in range(len(HEADER))]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(c.rjust(w) if i == len(HEADER) - 1 else c.ljust(w)
                             for i, (c, w) in enumerate(zip(cells, widths)))

        rule = "=" * len(line(HEADER))
        text = "\n".join([title, rule, line(HEADER), rule] + [line(r) for r in table] + [rule] + footer)
        self = super().__new__(cls, text)
        self.rows, self.title, self.footer = table, title, footer
        self.total_params, self.trainable_params = total, trainable
        self.param_bytes, self.activation_bytes = param_bytes, activation_bytes
        return self

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        """The table as HTML, for Jupyter."""
        cell = html.escape
        head = "".join(f"<th>{cell(h)}</th>" for h in HEADER)
        body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in row) + "</tr>" for row in self.rows)
        foot = "<br>".join(cell(line) for line in self.footer)
        return (f"<div><b>{cell(self.title)}</b><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                f"</table><p>{foot}</p></div>")
