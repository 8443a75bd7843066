"""torch.backends: the ``mps`` and ``cudnn`` namespaces programs query (both absent here)."""

from tinygrad_cnn.backends import cudnn, mps

__all__ = ["cudnn", "mps"]
