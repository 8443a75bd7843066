"""A test-only stand-in for torchvision beside real torch (PyPI's torchvision does not import with
this machine's torch): the datasets serve exactly the pixels tinygrad_cnn.vision serves (its
NumPy readers and synthetic images), as PIL images; the transforms make real torch tensors.
Used only by tests/compat/test_programs.py to run a program under real PyTorch."""

from torchvision import datasets, transforms, utils  # noqa: F401
