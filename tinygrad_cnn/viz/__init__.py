"""The computation graph as a graphviz.Digraph: what ran, in which module, on which shapes.

``draw_graph(loss, model)`` walks the graph behind ``loss`` (iteratively, each tensor once)
and draws one node per op, one per leaf tensor and one per output, with data flowing top
to bottom. Ops run inside a module sit in a labelled box (a graphviz cluster) named after
the module, nested as the modules are. Node ids come from a counter in traversal order,
so the same graph always gives the same DOT text.

How to read the picture (no legend needed):

- grey rounded box: an op with its key parameters ("conv2d s=1 p=0", "max_pool2d k=2 s=2")
- blue box: a tensor that requires grad (a parameter: "conv1.weight (6,1,5,5)")
- yellow sheet: data that requires no grad (inputs, targets); small grey text: a constant
- green double ellipse: the root (usually the loss), with its value when it is a scalar
- orange box (``show_saved``): the arrays an op keeps for backward
- red fill (``show_grads``): a leaf whose gradient holds NaN or inf

Building the Digraph and its ``.source`` needs only the ``graphviz`` Python package;
rendering (``render``, ``Digraph.render``/``pipe``, Jupyter display) needs Graphviz's
``dot`` program, and its absence raises one RuntimeError saying how to install it.

The package: ``graph`` walks the tensors behind the roots and groups ops into module calls;
``style`` holds the look (node styles, label text); ``dot`` the graphviz plumbing and
``render``; ``draw`` puts them together in ``draw_graph``; ``model`` runs a model for ``model_graph``.
``Tensor.draw`` imports ``viz.draw`` alone, which imports no tensor module.
"""

from tinygrad_cnn.viz.dot import DOT_MISSING, render
from tinygrad_cnn.viz.draw import draw_graph
from tinygrad_cnn.viz.model import model_graph
from tinygrad_cnn.viz.style import RANKDIRS, op_label

__all__ = ["DOT_MISSING", "RANKDIRS", "draw_graph", "model_graph", "op_label", "render"]
