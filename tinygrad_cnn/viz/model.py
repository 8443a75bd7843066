"""model_graph: the training graph of one batch through a model (the one part of viz that runs a model)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.autograd import enable_grad
from tinygrad_cnn.nn import functional as F
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.viz.draw import draw_tensors
from tinygrad_cnn.viz.graph import resolve_params
from tinygrad_cnn.viz.style import legend


def model_graph(model: Any, input_shape: Sequence[int], batch_size: int = 64, *, show_shapes: bool = True,
                show_grads: bool = False, show_saved: bool = False, group_modules: bool = True,
                rankdir: str = "TB", max_nodes: int | None = None, batch: tuple[Any, Any] | None = None) -> Any:
    """The training graph of one batch, ``cross_entropy(model(input), target)``, as a graphviz.Digraph.

    input_shape: one sample's shape without the batch dim, e.g. (1, 28, 28). ``batch``, when
    given, is a real batch (images (N, *input_shape), labels (N,), arrays or Tensors), drawn as
    "images" and "labels"; without it the input (batch_size, *input_shape) holds standard normal
    values from a generator of its own (the global seed is untouched) in the dtype of the
    model's parameters, drawn as "random input", and the targets are class 0 ("target (all 0)").
    The model runs in its current mode (train or eval), with grad recording on. Leaves are
    named by the model's named_parameters; the root is labelled "cross_entropy loss" with its
    value; a legend box says what each colour means. The other options are draw_graph's.
    """
    shape = tuple(int(n) for n in input_shape)
    if int(batch_size) < 1 or not shape or min(shape) < 1:
        raise ValueError(f"model_graph: need batch_size >= 1 and an input_shape of positive sizes, "
                         f"got batch_size={batch_size}, input_shape={tuple(input_shape)}")
    dtype = next((p.dtype for p in model.parameters()), np.dtype(np.float32))
    if batch is None:
        x = Tensor(np.random.default_rng(0).standard_normal((int(batch_size),) + shape).astype(dtype))
        target = Tensor(np.zeros(int(batch_size), dtype=np.int64))
        labels = ("random input", "target (all 0)")
    else:
        x, target = (b if isinstance(b, Tensor) else Tensor(np.asarray(b)) for b in batch)
        labels = ("images", "labels")
    with enable_grad():
        loss = F.cross_entropy(model(x), target)
    names, modules = resolve_params(model)
    names.update({id(x): labels[0], id(target): labels[1], id(loss): "cross_entropy loss"})
    graph = draw_tensors([loss], names, modules, show_shapes=show_shapes, show_grads=show_grads,
                         show_saved=show_saved, group_modules=group_modules, rankdir=rankdir, max_nodes=max_nodes)
    graph.subgraph(legend(type(graph)))
    return graph
