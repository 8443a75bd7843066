"""The networks CNNClassifier trains: ``small_cnn`` for any image size, and the check that a network fits the data."""

from __future__ import annotations

import copy
from typing import Any, Sequence

import numpy as np

from tinygrad_cnn.autograd import no_grad
from tinygrad_cnn.nn import Conv2d, Flatten, Linear, MaxPool2d, Module, ReLU, Sequential
from tinygrad_cnn.nn.modes import eval_mode
from tinygrad_cnn.tensor import Tensor


def small_cnn(input_shape: Sequence[int], num_classes: int) -> Sequential:
    """The network ``module="auto"`` builds for inputs other than 28x28 MNIST images.

    For one sample of shape ``(C, H, W)``: blocks of conv 3x3 (padding 1: same size),
    ReLU and 2x2 max-pooling, 16 channels then doubling, while both sides are at least 4
    before pooling and at least 8 after the previous block (one block without pooling for
    inputs smaller than 4x4, such as a row of a few features); then flatten, linear to 64,
    ReLU, linear to ``num_classes``. An 8x8 digit gets conv 1->16, pool to 4x4,
    linear 256->64->10 (17,258 parameters).
    """
    channels, height, width = (int(s) for s in input_shape)
    layers: list[Module] = []
    out = 16
    while True:
        layers += [Conv2d(channels, out, kernel_size=3, padding=1), ReLU()]
        channels = out
        if min(height, width) < 4:
            break
        layers.append(MaxPool2d(2))
        height, width = height // 2, width // 2
        if min(height, width) < 8:
            break
        out *= 2
    layers += [Flatten(), Linear(channels * height * width, 64), ReLU(), Linear(64, num_classes)]
    return Sequential(*layers)


def build_module(spec: Any, input_shape: tuple[int, int, int], n_classes: int) -> Module:
    """The network for ``CNNClassifier(module=spec)``, checked to map ``input_shape`` to n_classes outputs."""
    from tinygrad_cnn.models import MODELS, get_model

    if isinstance(spec, str):
        name = spec
        if name == "auto":
            name = "lenet" if input_shape == (1, 28, 28) else None
        if name is None:
            module: Module = small_cnn(input_shape, n_classes)
        elif name in MODELS:
            expected = getattr(MODELS[name], "input_shape", None)
            if expected is not None and tuple(expected) != input_shape:
                raise ValueError(
                    f"CNNClassifier: module {name!r} takes samples of shape {tuple(expected)}, but X has samples "
                    f"of shape {input_shape}; use module='auto', or set input_shape"
                )
            module = get_model(name, num_classes=n_classes)
        else:
            raise ValueError(f"CNNClassifier: unknown module {spec!r}; use 'auto', one of {sorted(MODELS)}, "
                             "a Module or a list of layers")
    elif isinstance(spec, Module):
        module = copy.deepcopy(spec)
    elif isinstance(spec, (list, tuple)) and spec and all(isinstance(m, Module) for m in spec):
        module = Sequential(*copy.deepcopy(list(spec)))
    else:
        raise TypeError(f"CNNClassifier: module must be 'auto', a model name, a Module or a non-empty list of "
                        f"Modules, got {type(spec).__name__}")
    check_output(module, input_shape, n_classes)
    return module


def check_output(module: Module, input_shape: tuple[int, int, int], n_classes: int) -> None:
    """One forward pass on a zero sample: the network must map ``input_shape`` to (1, n_classes)."""
    first = next(module.parameters(), None)
    if first is None:
        raise ValueError("CNNClassifier: the module has no parameters to train")
    dtype = first.dtype
    try:
        with eval_mode(module), no_grad():
            out = module(Tensor(np.zeros((1,) + input_shape, dtype=dtype)))
    except (ValueError, TypeError, RuntimeError) as exc:
        raise ValueError(f"CNNClassifier: the module cannot take samples of shape {input_shape}: {exc}") from exc
    if not isinstance(out, Tensor) or out.shape != (1, n_classes):
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"CNNClassifier: the module maps one sample {input_shape} to {shape}; for {n_classes} "
                         f"classes it must output (N, {n_classes}), one score per class")
