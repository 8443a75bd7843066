"""Module, Parameter and Sequential: models defined the PyTorch way.

A Module registers the Parameters and sub-Modules assigned to its attributes, in
assignment order; ``named_parameters()`` then yields PyTorch's dotted names
("conv1.weight"), which are also the keys of ``state_dict()``. Calling a module runs
``forward`` inside ``autograd.scope(name)``, where ``name`` is the attribute name under
which the calling module holds it (else the name of its first registration), so that every
op in the graph knows which layer produced it, also for a module shared by two parents
(a root module pushes nothing).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, namedtuple
from contextlib import nullcontext
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np

from tinygrad_cnn.autograd import no_grad, scope
from tinygrad_cnn.nn.modes import eval_mode
from tinygrad_cnn.nn.summary_table import Summary
from tinygrad_cnn.tensor import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

_state = threading.local()


def _calling() -> list["Module"]:
    """The modules whose forward is running in this thread, outermost first."""
    stack = getattr(_state, "calling", None)
    if stack is None:
        stack = _state.calling = []
    return stack


def _as_array(value: Any) -> np.ndarray:
    """A state-dict value (a Tensor, an ndarray, a number or a real torch.Tensor) as an ndarray."""
    if isinstance(value, Tensor):
        return value.numpy()
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch.Tensor, read without importing torch
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Parameter(Tensor):
    """A Tensor that is a model's learnable weight: it requires grad and is registered by Module.

    ``data`` may be an array (its floating dtype kept; integer data becomes float32), a list
    (float32) or a Tensor, whose array is shared, not copied, as torch.nn.Parameter does.
    """

    def __init__(self, data: Any = None, requires_grad: bool = True) -> None:
        if data is None:
            data = np.empty(0, dtype=np.float32)
        if isinstance(data, Tensor):
            data = data.numpy()
        if isinstance(data, (np.ndarray, np.generic)) and not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float32)
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class RemovableHandle:
    """Returned by ``register_forward_hook``/``register_forward_pre_hook``; ``remove()`` unregisters."""

    _next_id = 0

    def __init__(self, hooks: dict[int, Callable]) -> None:
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self) -> None:
        """Unregister the hook (a second call does nothing)."""
        self._hooks.pop(self.id, None)


class Module:
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign Parameters and Modules as
    attributes, and define ``forward``. Call the module (``model(x)``), not ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_name", None)
        object.__setattr__(self, "training", True)

    # ---------------------------------------------------------------- registration
    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign {type(value).__name__} '{name}' before "
                "Module.__init__() is called; call super().__init__() first in __init__"
            )
        if isinstance(value, Parameter):
            modules.pop(name, None)
            params[name] = value
        elif isinstance(value, Module):
            params.pop(name, None)
            modules[name] = value
            if value._name is None:
                object.__setattr__(value, "_name", name)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as parameter '{name}' "
                    "(a Parameter or None is required)"
                )
            params[name] = None
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"{type(self).__name__}: cannot assign {type(value).__name__} as child module '{name}' "
                    "(a Module or None is required)"
                )
            modules[name] = None
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._parameters.pop(name, None)
        self._modules.pop(name, None)
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None: an absent optional parameter, like ``bias=False``) as ``name``."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: '{name}' must be a Parameter or None, got {type(param).__name__}")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` as the child ``name`` (same as assigning the attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: '{name}' must be a Module or None, got {type(module).__name__}")
        if module is None:
            self._modules[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, module)

    register_module = add_module

    # ---------------------------------------------------------------- traversal
    def named_modules(self, memo: set[int] | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(qualified name, module) for this module ("") and every descendant, pre-order."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, pre-order."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(attribute name, module) for each direct child, in registration order."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct children, in registration order."""
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ("conv1.weight", ...), in registration order."""
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen: set[int] = set()
        for module_name, module in modules:
            for name, param in module._parameters.items():
                if param is None or (remove_duplicate and id(param) in seen):
                    continue
                seen.add(id(param))
                yield (f"{module_name}.{name}" if module_name else name), param

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each once), in registration order: pass these to an optimizer."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def get_params_count(self) -> int:
        """Total number of learnable values (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters())

    # ---------------------------------------------------------------- state
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Every parameter as a detached Tensor sharing its array (as torch's), keyed by PyTorch's
        names ("conv1.weight", "fc1.bias", ...)."""
        return OrderedDict(
            (name, param.detach())
            for name, param in self.named_parameters(remove_duplicate=False)
        )

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy the arrays of ``state_dict`` into the parameters (in place, keeping their dtype).

        Everything is checked before anything is copied: missing and unexpected keys (errors
        when ``strict``) and shape mismatches (always errors) are listed together in one
        RuntimeError, and the model is left unchanged. Returns (missing_keys, unexpected_keys).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a mapping of names to arrays, got {type(state_dict).__name__}")
        own = OrderedDict(self.named_parameters(remove_duplicate=False))
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems: list[str] = []
        arrays: dict[str, np.ndarray] = {}
        for key, param in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = _as_array(value)
            if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
                problems.append(f"value for '{key}' is not numeric (dtype {array.dtype})")
            elif array.shape != param.shape:
                problems.append(
                    f"size mismatch for '{key}': copying a param with shape {array.shape} from checkpoint, "
                    f"the shape in current model is {param.shape}"
                )
            else:
                arrays[key] = array
        if strict:
            if missing:
                problems.insert(0, "Missing key(s) in state_dict: " + ", ".join(f"'{k}'" for k in missing))
            if unexpected:
                problems.insert(int(bool(missing)),
                                "Unexpected key(s) in state_dict: " + ", ".join(f"'{k}'" for k in unexpected))
        if problems:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__} (model left unchanged):\n\t"
                + "\n\t".join(problems)
            )
        for key, array in arrays.items():
            own[key].numpy()[...] = array
        return IncompatibleKeys(missing, unexpected)

    def to(self, dtype: Any) -> "Module":
        """Convert every parameter (and gradient) to the floating ``dtype``, in place; returns self."""
        dtype = np.dtype(dtype)
        if not np.issubdtype(dtype, np.floating):
            raise TypeError(f"Module.to: only floating dtypes are supported, got {dtype}")
        for param in self.parameters():
            param.data = param.data.to(dtype)
            if param.grad is not None:
                param.grad = param.grad.to(dtype)
        return self

    def double(self) -> "Module":
        """Parameters converted to float64 (for gradient checks); returns self."""
        return self.to(np.float64)

    def float(self) -> "Module":
        """Parameters converted to float32; returns self."""
        return self.to(np.float32)

    # ---------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout active) on this module and every descendant; returns self."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (Dropout inactive); returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None, or zeros when ``set_to_none=False``)."""
        for param in self.parameters():
            param.zero_grad(set_to_none)

    # ---------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__}: forward() is not defined")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        calling = _calling()
        name = self._scope_name(calling[-1] if calling else None)
        calling.append(self)
        try:
            with scope(name) if name is not None else nullcontext():
                if self._forward_pre_hooks or self._forward_hooks:
                    return self._call_with_hooks(args, kwargs)
                return self.forward(*args, **kwargs)
        finally:
            calling.pop()

    def _scope_name(self, caller: "Module | None") -> str | None:
        """The scope this call runs in: the name under which the calling module holds this one (so a
        module shared by two parents is named after the parent that called it), else the name of
        its first registration; None for a root."""
        if caller is not None:
            for name, module in caller._modules.items():
                if module is self:
                    return name
        return self._name

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_pre_hook(self, hook: Callable[["Module", tuple], Any]) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward; a non-None result replaces the args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook: Callable[["Module", tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward; a non-None result replaces the output."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr, e.g. "in_features=784, out_features=128, bias=True"."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [
            f"({name}): " + _add_indent(repr(module), 2) for name, module in self._modules.items()
        ]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{type(self).__name__}({body})"

    def summary(self, input_shape: Iterable[int] | None = None, batch_size: int = 1) -> Summary:
        """A table of every layer called on zeros of shape (batch_size, *input_shape).

        ``input_shape`` is one sample's shape, e.g. (1, 28, 28); it defaults to the model's
        ``input_shape`` attribute when it has one (the ready-made models do). Runs one forward
        pass in eval mode under no_grad (the training flags are restored afterwards and no
        random number is drawn) and lists, in call order, each layer's qualified name, type,
        output shape and number of parameters of its own, then the totals and a memory estimate:
        a ``nn.summary_table.Summary``, a str shown as the table by print, repr and Jupyter.
        """
        if input_shape is None:
            input_shape = getattr(self, "input_shape", None)
            if input_shape is None:
                raise TypeError(
                    f"{type(self).__name__}.summary: pass input_shape, one sample's shape, e.g. (1, 28, 28)"
                )
        input_shape = tuple(int(n) for n in input_shape)
        names = {id(module): name for name, module in self.named_modules()}
        rows: list[list[str]] = []

        def before(module: Module, args: tuple) -> None:
            row = [names.get(id(module), "?"), type(module).__name__, "-",
                   f"{sum(p.numel() for p in module.parameters(recurse=False)):,}"]
            rows.append(row)
            pending.append(row)

        def after(module: Module, args: tuple, out: Any) -> None:
            pending.pop()[2] = _describe_shape(out)

        pending: list[list[str]] = []
        dtype = next((p.dtype for p in self.parameters()), np.dtype(np.float32))
        handles = []
        for name, module in self.named_modules():
            if name:
                handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
        try:
            with eval_mode(self), no_grad():
                out = self(Tensor(np.zeros((batch_size,) + input_shape, dtype=dtype)))
        finally:
            for handle in handles:
                handle.remove()
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        return Summary(self, (batch_size,) + input_shape, rows, _describe_shape(out), self.get_params_count(),
                       trainable, dtype.itemsize)


def _describe_shape(out: Any) -> str:
    if isinstance(out, Tensor):
        return str(tuple(out.shape))
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_describe_shape(o) for o in out) + "]"
    return "-"


def _add_indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Sequential(Module):
    """Modules applied one after another; children are named "0", "1", ... (or by an OrderedDict).

    Indexable (``seq[0]``, ``seq[-1]``, ``seq[1:3]`` gives a Sequential), iterable, has ``len``.
    """

    def __init__(self, *modules: Module | "OrderedDict[str, Module]") -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, module in modules[0].items():
                self._check(name, module)
                setattr(self, name, module)
        else:
            for i, module in enumerate(modules):
                self._check(str(i), module)
                setattr(self, str(i), module)

    @staticmethod
    def _check(name: str, module: Any) -> None:
        if not isinstance(module, Module):
            raise TypeError(f"Sequential: item {name} must be a Module, got {type(module).__name__}")

    def append(self, module: Module) -> "Sequential":
        """Add ``module`` at the end (named by its position); returns self."""
        self._check(str(len(self)), module)
        setattr(self, str(len(self)), module)
        return self

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> "Module":
        items = list(self._modules.items())
        if isinstance(index, slice):
            return Sequential(OrderedDict(items[index]))
        if not -len(items) <= index < len(items):
            raise IndexError(f"Sequential: index {index} is out of range for {len(items)} modules")
        return items[index][1]

    def forward(self, input: Any) -> Any:
        """Each module applied to the previous one's output."""
        for module in self._modules.values():
            input = module(input)
        return input
