"""Module: the base class of every layer and model, as torch.nn.Module.

A Module registers the Parameters, buffers and sub-Modules assigned to its attributes, in
assignment order; ``named_parameters()`` then yields PyTorch's dotted names
("conv1.weight"), and ``state_dict()`` PyTorch's keys (per module: its parameters, its
persistent buffers, then its children's). Registered objects live both in the ordered
registries (``_parameters``, ``_buffers``, ``_modules``) and as plain attributes, so reading
``self.conv1`` costs nothing. Calling a module runs ``forward`` inside
``autograd.scope(name)``, where ``name`` is the attribute name under which the calling
module holds it (else the name of its first registration), so that every op in the graph
knows which layer produced it, also for a module shared by two parents (a root module
pushes nothing).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import nullcontext
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from tinygrad_cnn.autograd import scope
from tinygrad_cnn.nn import module_pickle
from tinygrad_cnn.nn.hooks import RemovableHandle, add_hook
from tinygrad_cnn.nn.module_state import IncompatibleKeys, StateMixin
from tinygrad_cnn.nn.parameter import Buffer, Parameter
from tinygrad_cnn.nn.summary import summary as _summary
from tinygrad_cnn.tensor import Tensor

__all__ = ["IncompatibleKeys", "Module", "Parameter", "RemovableHandle"]

_state = threading.local()


def _calling() -> list["Module"]:
    """The modules whose forward is running in this thread, outermost first."""
    stack = getattr(_state, "calling", None)
    if stack is None:
        stack = _state.calling = []
    return stack


def _check_name(name: Any, kind: str, owner: "Module", registry: dict) -> None:
    """PyTorch's rules for a parameter/buffer/module name: a non-empty str without '.', not an
    attribute of another kind."""
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
    if not name:
        raise KeyError(f'{kind} name can\'t be empty string ""')
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if hasattr(owner, name) and name not in registry:
        raise KeyError(f"attribute '{name}' already exists")


class Module(StateMixin):
    """Base class of every layer and model.

    Subclasses call ``super().__init__()`` first, assign Parameters and Modules as
    attributes (and ``register_buffer`` non-learnable state), and define ``forward``. Call
    the module (``model(x)``), not ``forward``.
    """

    training: bool

    def __init__(self) -> None:
        for name in ("_parameters", "_buffers", "_modules"):
            object.__setattr__(self, name, OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "_forward_pre_hooks", {})
        object.__setattr__(self, "_name", None)
        object.__setattr__(self, "training", True)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Unpickling (``torch.load`` of a whole model): this package's pickled state, or one
        pickled by PyTorch, adopted (nn/module_pickle.py)."""
        module_pickle.restore(self, state, Module.__init__)

    # ---------------------------------------------------------------- registration
    def _unregister(self, name: str, keep: str = "") -> None:
        """Forget ``name`` in every registry but ``keep`` (where a reassignment keeps its place),
        before it is registered again."""
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, (Parameter, Module)) and params is None:
            raise AttributeError(
                f"{type(self).__name__}: cannot assign {type(value).__name__} '{name}' before "
                "Module.__init__() is called; call super().__init__() first in __init__"
            )
        if isinstance(value, Parameter):
            self._unregister(name, keep="_parameters")
            self.__dict__.pop(name, None)
            self.register_parameter(name, value)
            return
        if isinstance(value, Buffer):
            self._unregister(name, keep="_buffers")
            if name not in self.__dict__["_buffers"]:
                self.__dict__.pop(name, None)
            self.register_buffer(name, value, persistent=value.persistent)
            return
        if isinstance(value, Module):
            self._unregister(name, keep="_modules")
            self._modules[name] = value
            if value._name is None:
                object.__setattr__(value, "_name", name)
        elif params is not None:
            for registry, expected in (("_parameters", "Parameter"), ("_modules", "Module"), ("_buffers", "Tensor")):
                if name not in self.__dict__[registry]:
                    continue
                if value is not None and not (expected == "Tensor" and isinstance(value, Tensor)):
                    kind = {"_parameters": "parameter", "_modules": "child module", "_buffers": "buffer"}[registry]
                    raise TypeError(f"{type(self).__name__}: cannot assign '{type(value).__name__}' as {kind} "
                                    f"'{name}' (nn.{expected} or None expected)")
                self.__dict__[registry][name] = value
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        self._unregister(name)
        object.__delattr__(self, name)

    def __dir__(self) -> list[str]:
        return sorted(key for key in super().__dir__() if not key[:1].isdigit())

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` (or None: an absent optional parameter, like ``bias=False``) as ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_name(name, "parameter", self, self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"register_parameter: cannot assign non-leaf Tensor to parameter '{name}'; model "
                             "parameters must be created explicitly (wrap a detached tensor in nn.Parameter)")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Register ``tensor`` as the buffer ``name``: model state that is not a parameter
        (BatchNorm's running_mean), listed by ``buffers()``, converted by ``to()`` and, when
        ``persistent``, saved in ``state_dict()`` after the module's parameters, as torch's."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_name(name, "buffer", self, self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(Tensor or None required)")
        self._buffers[name] = tensor
        (self._non_persistent_buffers_set.discard if persistent else self._non_persistent_buffers_set.add)(name)
        object.__setattr__(self, name, tensor)

    def add_module(self, name: str, module: "Module | None") -> None:
        """Register ``module`` as the child ``name`` (same as assigning the attribute)."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {type(module).__name__} is not a Module subclass")
        _check_name(name, "module", self, self._modules)
        if module is None:
            self._modules[name] = None
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, module)

    def register_module(self, name: str, module: "Module | None") -> None:
        """Alias for ``add_module``."""
        self.add_module(name, module)

    def _set_modules(self, items: Iterable[tuple[str, "Module | None"]]) -> None:
        """Replace every child by ``items`` (containers renumber their children through this)."""
        for name in list(self._modules):
            self._modules.pop(name)
            object.__delattr__(self, name)
        for name, module in items:
            self.add_module(name, module)

    # ---------------------------------------------------------------- traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, "Module"]]:
        """(qualified name, module) for this module ("") and every descendant, pre-order; a
        module reached twice is listed once unless ``remove_duplicate=False``."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self) -> Iterator["Module"]:
        """This module and every descendant, pre-order, each once."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        """(attribute name, module) for each direct child, in registration order, each once."""
        seen: set[int] = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator["Module"]:
        """The direct children, in registration order."""
        for _, module in self.named_children():
            yield module

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Call ``fn`` on every descendant (children first, recursively) and then on self, as
        torch's ``model.apply(init_weights)``; returns self."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def _named_members(self, registry: str, prefix: str, recurse: bool,
                       remove_duplicate: bool) -> Iterator[tuple[str, Tensor]]:
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) if recurse else [(prefix, self)]
        seen: set[int] = set()
        for module_name, module in modules:
            for name, member in module.__dict__[registry].items():
                if member is None or (remove_duplicate and id(member) in seen):
                    continue
                seen.add(id(member))
                yield (f"{module_name}.{name}" if module_name else name), member

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, parameter) pairs, e.g. ("conv1.weight", ...), in registration order;
        ``recurse=False`` gives this module's own only."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each once), in registration order: pass these to an optimizer."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, buffer) pairs, e.g. ("bn1.running_mean", ...), in registration order."""
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer (each once), in registration order."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def get_submodule(self, target: str) -> "Module":
        """The descendant at the dotted path ``target`` ("layer1.0.conv1"; "" is self)."""
        module = self
        for item in target.split(".") if target else []:
            if not hasattr(module, item):
                raise AttributeError(f"{type(module).__name__} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def _get_member(self, target: str, registry: str, kind: str) -> Tensor:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{type(module).__name__} has no attribute `{name}`")
        if name not in module.__dict__[registry]:
            raise AttributeError(f"`{name}` is not {kind}")
        return getattr(module, name)

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at the dotted path ``target`` ("layer1.0.conv1.weight")."""
        return self._get_member(target, "_parameters", "an nn.Parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at the dotted path ``target`` ("bn1.running_mean")."""
        return self._get_member(target, "_buffers", "a buffer")

    def get_params_count(self) -> int:
        """Total number of learnable values (each shared parameter counted once)."""
        return sum(p.numel() for p in self.parameters())

    # ---------------------------------------------------------------- modes and grads
    def train(self, mode: bool = True) -> "Module":
        """Set training mode (Dropout active, BatchNorm on batch statistics) on this module and,
        through their own ``train``, every descendant; returns self."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train: training mode is expected to be boolean, got {mode!r}")
        object.__setattr__(self, "training", bool(mode))
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> "Module":
        """Set evaluation mode (Dropout inactive, BatchNorm on running statistics); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Set ``requires_grad`` of every parameter (False freezes the module); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None, or zeros when ``set_to_none=False``)."""
        for param in self.parameters():
            param.zero_grad(set_to_none)

    # ---------------------------------------------------------------- calling
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation; subclasses define it."""
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

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
            if caller._modules.get(self._name) is self:  # the usual case, without the search
                return self._name
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

    def register_forward_pre_hook(self, hook: Callable[["Module", tuple], Any], *,
                                  prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` before each forward (first, with ``prepend``); a non-None
        result replaces the args."""
        return add_hook(self._forward_pre_hooks, hook, prepend)

    def register_forward_hook(self, hook: Callable[["Module", tuple, Any], Any], *,
                              prepend: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` after each forward (first, with ``prepend``); a
        non-None result replaces the output."""
        return add_hook(self._forward_hooks, hook, prepend)

    # ---------------------------------------------------------------- printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr, e.g. "in_features=784, out_features=128, bias=True"."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _add_indent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if len(extra_lines) == 1 and not child_lines:
            body = extra_lines[0]
        elif lines:
            body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"

    def summary(self, input_shape: Iterable[int] | None = None, batch_size: int = 1) -> str:
        """A table of every layer called on zeros of shape (batch_size, *input_shape): see
        ``tinygrad_cnn.nn.summary.summary``."""
        return _summary(self, input_shape, batch_size)


def _add_indent(text: str, spaces: int) -> str:
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])
