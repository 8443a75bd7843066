"""A module's tensors saved, loaded and converted: StateMixin gives Module ``state_dict``,
``load_state_dict``, ``to``/``float``/``double``/``half``/``cpu``/``cuda``; the helpers read
state-dict values as arrays (Tensors, ndarrays, numbers, real torch tensors), check keys and
shapes once, and read the arguments of ``to(...)``."""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from typing import Any, Iterator, Mapping, Self

import numpy as np

from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.tensor_convert import to_arguments

DEVICE_ERROR = "tinygrad_cnn computes on the CPU only (no CUDA/MPS/GPU backend); use device 'cpu'"


class IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and the keys it did not use."""

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


def as_array(value: Any) -> np.ndarray:
    """A state-dict value (a Tensor, an ndarray, a number or a real torch.Tensor) as an ndarray."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, read without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


def check_state(owner: str, shapes: Mapping[str, tuple[int, ...]], state_dict: Mapping[str, Any],
                strict: bool) -> tuple[list[str], list[str], dict[str, np.ndarray]]:
    """(missing keys, unexpected keys, {key: array}) of ``state_dict`` loaded into a model whose
    state has ``shapes``; every problem (missing/unexpected keys when ``strict``, non-numeric
    values and shape mismatches always) raised together in one RuntimeError naming ``owner``."""
    missing = [key for key in shapes if key not in state_dict]
    unexpected = [key for key in state_dict if key not in shapes]
    problems: list[str] = []
    arrays: dict[str, np.ndarray] = {}
    for key, shape in shapes.items():
        if key not in state_dict:
            continue
        array = as_array(state_dict[key])
        if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
            problems.append(f"value for '{key}' is not numeric (dtype {array.dtype})")
        elif array.shape != tuple(shape):
            problems.append(f"size mismatch for {key}: copying a param with shape {tuple(array.shape)} from checkpoint, "
                            f"the shape in current model is {tuple(shape)}.")
        else:
            arrays[key] = array
    if strict:
        if unexpected:
            problems.insert(0, "Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ".")
        if missing:
            problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ".")
    if problems:
        raise RuntimeError(f"Error(s) in loading state_dict for {owner} (model left unchanged):\n\t"
                           + "\n\t".join(problems))
    return missing, unexpected, arrays


def _dtype_or_none(value: Any) -> np.dtype | None:
    """``value`` as a dtype when it is one (np.float32, np.dtype("float64"), float), else None."""
    if isinstance(value, np.dtype):
        return value
    if isinstance(value, type) and issubclass(value, (np.generic, float, int, bool)):
        return np.dtype(value)
    return None


class StateMixin:
    """Module's state methods: its parameters and persistent buffers as a state dict, loaded
    back, and converted to another dtype. Module supplies ``named_modules``/``modules`` and
    the ``_parameters``/``_buffers``/``_non_persistent_buffers_set`` registries."""

    _version: int = 1
    _added_in_version: dict[str, int] = {}

    def _state_items(self, prefix: str = "") -> Iterator[tuple[str, Any, str, Tensor]]:
        """(key, owner, attribute, tensor) for what state_dict holds, in torch's order: per
        module (shared ones repeated), its parameters then its persistent buffers."""
        for module_name, module in self.named_modules(prefix=prefix, remove_duplicate=False):
            head = f"{module_name}." if module_name else ""
            for name, param in module._parameters.items():
                if param is not None:
                    yield head + name, module, name, param
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers_set:
                    yield head + name, module, name, buffer

    def state_dict(self, *, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> "OrderedDict[str, Tensor]":
        """Every parameter and persistent buffer keyed by PyTorch's names ("conv1.weight",
        "bn1.running_mean", ...): detached Tensors sharing the arrays (the Parameters
        themselves with ``keep_vars``), added to ``destination`` when given. Its ``_metadata``
        (when it has one) holds each module's ``{"version": ...}``, as torch's."""
        out = destination
        if out is None:
            out = OrderedDict()
            out._metadata = OrderedDict()
        if hasattr(out, "_metadata"):
            for name, module in self.named_modules(prefix=prefix.rstrip("."), remove_duplicate=False):
                out._metadata[name] = {"version": module._version}
        for key, _, _, tensor in self._state_items(prefix.rstrip(".")):
            out[key] = tensor if keep_vars else tensor.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True,
                        assign: bool = False) -> IncompatibleKeys:
        """Copy the values of ``state_dict`` (Tensors, ndarrays, numbers or torch tensors) into
        the parameters and persistent buffers, in place and keeping their dtypes; with
        ``assign``, the values themselves become them (as Parameters where parameters were).

        Everything is checked before anything changes: missing and unexpected keys (errors
        when ``strict``) and shape mismatches (always errors) are listed together in one
        RuntimeError, and the model is left unchanged. Returns (missing_keys, unexpected_keys).
        A key that a module's ``_added_in_version`` says its version N introduced (BatchNorm's
        num_batches_tracked, version 2) may be absent when the checkpoint's ``_metadata`` gives
        that module an older version, or none: it keeps its value, as torch's loading does.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected state_dict to be dict-like, got {type(state_dict).__name__}")
        metadata = getattr(state_dict, "_metadata", None) or {}

        def predates(key: str, owner: Any, name: str) -> bool:
            """True for a key absent from a checkpoint saved before its module's version added it."""
            added = owner._added_in_version.get(name)
            version = metadata.get(key[: -len(name) - 1], {}).get("version")
            return added is not None and key not in state_dict and (version is None or version < added)

        own = {key: (owner, name, tensor) for key, owner, name, tensor in self._state_items()
               if not predates(key, owner, name)}
        missing, unexpected, arrays = check_state(
            type(self).__name__, {key: t.shape for key, (_, _, t) in own.items()}, state_dict, strict)
        for key, array in arrays.items():
            owner, name, tensor = own[key]
            if not assign:
                tensor.numpy()[...] = array
            elif isinstance(tensor, Parameter):
                setattr(owner, name, Parameter(array, requires_grad=tensor.requires_grad))
            else:
                setattr(owner, name, Tensor(array))
        return IncompatibleKeys(missing, unexpected)

    def _cast(self, dtype: np.dtype) -> Self:
        """Convert every floating parameter (its gradient too) and floating buffer to ``dtype``
        in place, as torch's ``_apply``: parameters keep their identity, buffers are replaced."""
        dtype = np.dtype(dtype)
        for module in self.modules():
            for param in module._parameters.values():
                if param is not None and np.issubdtype(param.dtype, np.floating) and param.dtype != dtype:
                    grad = param.grad
                    param.grad = None
                    param.data = Tensor(param.numpy().astype(dtype))
                    if grad is not None:
                        param.grad = Tensor(grad.numpy().astype(dtype))
            for name, buffer in list(module._buffers.items()):
                if buffer is not None and np.issubdtype(buffer.dtype, np.floating) and buffer.dtype != dtype:
                    setattr(module, name, Tensor(buffer.numpy().astype(dtype)))
        return self

    def to(self, *args: Any, **kwargs: Any) -> Self:
        """As torch's ``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(tensor)``:
        floating parameters and buffers converted to the dtype (integer buffers such as
        BatchNorm's num_batches_tracked keep theirs); the device must be the CPU (anything else
        raises RuntimeError: tinygrad_cnn computes on the CPU). Returns self."""
        dtype, _ = to_arguments(args, kwargs, "Module.to")
        if dtype is not None and not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Module.to only accepts floating point dtypes, but got desired dtype={dtype}")
        return self if dtype is None else self._cast(dtype)

    def float(self) -> Self:
        """Floating parameters and buffers converted to float32; returns self."""
        return self._cast(np.float32)

    def double(self) -> Self:
        """Floating parameters and buffers converted to float64 (for gradient checks); returns self."""
        return self._cast(np.float64)

    def half(self) -> Self:
        """Floating parameters and buffers converted to float16; returns self."""
        return self._cast(np.float16)

    def cpu(self) -> Self:
        """self: modules already live on the CPU."""
        return self

    def cuda(self, device: Any = None) -> Self:
        """Raise RuntimeError: tinygrad_cnn computes on the CPU only."""
        raise RuntimeError(f"Module.cuda: {DEVICE_ERROR}")

