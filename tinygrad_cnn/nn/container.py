"""Containers, as torch.nn's: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict.

Each registers what it holds under PyTorch's names ("0", "1", ... or the dict's keys), so
a model built from them has torch's ``state_dict`` keys ("features.0.weight").
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from typing import Any, Iterable, Iterator, Mapping

from tinygrad_cnn.dtypes import scalar_type_name
from tinygrad_cnn.nn.module import Module, _add_indent
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.tensor import Tensor

__all__ = ["ModuleDict", "ModuleList", "ParameterDict", "ParameterList", "Sequential"]


def _position(index: Any, length: int, owner: str, insert: bool = False) -> int:
    """``index`` (an int, negative counting from the end) as a position in 0..length-1
    (0..length for an insertion); IndexError naming ``owner`` when out of range."""
    index = operator.index(index)
    limit = length + 1 if insert else length
    if not -length <= index < limit:
        raise IndexError(f"{owner}: index {index} is out of range for {length} items")
    return index + length if index < 0 else index


def _items(value: Any, sort_plain: bool) -> Iterable[tuple[str, Any]]:
    """(key, value) pairs of a mapping (sorted for a plain dict's when ``sort_plain``, as
    torch's ParameterDict) or of an iterable of pairs."""
    if isinstance(value, (OrderedDict, ModuleDict, ParameterDict)):
        return list(value.items())
    if isinstance(value, Mapping):
        return sorted(value.items()) if sort_plain else list(value.items())
    pairs = []
    for i, pair in enumerate(value):
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"update: element #{i} of the sequence should be a (key, value) pair, got {pair!r}")
        pairs.append(tuple(pair))
    return pairs


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: children named by position, indexable, sliceable."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._from_items(list(self._modules.items())[index])
        return list(self._modules.values())[_position(index, len(self), type(self).__name__)]

    def __setitem__(self, index: int, module: Module) -> None:
        key = list(self._modules)[_position(index, len(self), type(self).__name__)]
        self.add_module(key, module)

    def __delitem__(self, index: int | slice) -> None:
        items = list(self._modules.values())
        if isinstance(index, slice):
            del items[index]
        else:
            del items[_position(index, len(items), type(self).__name__)]
        self._set_modules((str(i), m) for i, m in enumerate(items))

    def _from_items(self, items: list[tuple[str, Module]]) -> Any:
        raise NotImplementedError

    def append(self, module: Module) -> Any:
        """Add ``module`` at the end (named by its position); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        """Append each of ``modules``; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> Any:
        """Put ``module`` before position ``index`` (the later ones renumbered)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.insert: {type(module).__name__} is not a Module subclass")
        items = list(self._modules.values())
        items.insert(_position(index, len(items), type(self).__name__, insert=True), module)
        self._set_modules((str(i), m) for i, m in enumerate(items))
        return self

    def pop(self, key: int | slice = -1) -> Any:
        """Remove and return the module at ``key`` (a slice: those modules, in a container of
        this type; by default the last, as a list's pop, where torch's needs the key), the later
        ones renumbered."""
        module = self[key]
        del self[key]
        return module

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_ModuleSequence):
    """Modules applied one after another; children are named "0", "1", ... (or by an
    OrderedDict's keys). ``seq[0]``, ``seq[-1]``, ``seq[1:3]`` (a Sequential keeping the
    names), ``len``, iteration, ``append``/``insert``/``extend``/``pop``, ``del seq[i]``."""

    def __init__(self, *args: Module | "OrderedDict[str, Module]") -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def _from_items(self, items: list[tuple[str, Module]]) -> "Sequential":
        return type(self)(OrderedDict(items))

    def extend(self, sequential: Iterable[Module]) -> "Sequential":
        """Append each module of ``sequential`` (torch's name for the argument); returns self."""
        return super().extend(sequential)

    def __add__(self, other: "Sequential") -> "Sequential":
        if not isinstance(other, Sequential):
            raise TypeError(f"Sequential: cannot add {type(other).__name__} (a Sequential is required)")
        return Sequential(*self, *other)

    def forward(self, input: Any) -> Any:
        """Each module applied to the previous one's output."""
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(_ModuleSequence):
    """A list of modules, registered as "0", "1", ...: indexing, slicing (a ModuleList),
    ``len``, iteration, ``append``/``extend``/``insert``/``pop``, ``+=``. It has no forward:
    the owner's forward calls its items."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _from_items(self, items: list[tuple[str, Module]]) -> "ModuleList":
        return type(self)(module for _, module in items)

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> "ModuleList":
        return ModuleList([*self, *other])

    def __repr__(self) -> str:
        """As torch's: runs of identical items compressed into "(0-2): 3 x Linear(...)"."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return f"{self._get_name()}()"
        runs: list[list[Any]] = []
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [_add_indent(f"({a}): {t}" if a == b else f"({a}-{b}): {b - a + 1} x {t}", 2) for a, b, t in runs]
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """An ordered dict of modules registered under their keys: ``d[key]``, ``d[key] = m``,
    ``del d[key]``, ``in``, ``len``, iteration over keys, keys/values/items/update/pop/clear."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        """The modules, in insertion order."""
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        """(key, module) pairs, in insertion order."""
        return self._modules.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        """Add or replace the entries of ``modules`` (a mapping's or a sequence of pairs), in order."""
        for key, module in _items(modules, sort_plain=False):
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove ``key`` and return its module."""
        module = self[key]
        del self[key]
        return module

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._modules):
            del self[key]


def _describe_tensor(key: Any, value: Any, type_name: bool) -> str:
    """One line of a parameter container's repr, as torch's: the dtype ("torch.float32") in
    ParameterList's, the type name ("torch.FloatTensor") in ParameterDict's."""
    if not isinstance(value, Tensor):
        return f"({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(str(n) for n in value.shape)
    described = f"torch.{scalar_type_name(value.dtype)}Tensor" if type_name else f"torch.{value.dtype.name}"
    return f"({key}): {kind} containing: [{described} of size {size}]"


def _as_parameter(value: Any) -> Any:
    """A Tensor that is not yet a Parameter made one (sharing its array), as torch's containers do."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


class ParameterList(Module):
    """A list of parameters, registered as "0", "1", ... (Tensors are made Parameters):
    indexing, ``len``, iteration, ``append``/``extend``, ``+=``."""

    def __init__(self, values: Iterable[Any] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return ParameterList(self[i] for i in range(self._size)[index])
        return getattr(self, str(_position(index, self._size, "ParameterList")))

    def __setitem__(self, index: int, value: Any) -> None:
        setattr(self, str(_position(index, self._size, "ParameterList")), _as_parameter(value))

    def __iter__(self) -> Iterator[Any]:
        return (self[i] for i in range(self._size))

    def append(self, value: Any) -> "ParameterList":
        """Add ``value`` at the end; returns self."""
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values: Iterable[Any]) -> "ParameterList":
        """Append each of ``values``; returns self."""
        for value in values:
            self.append(value)
        return self

    def __iadd__(self, values: Iterable[Any]) -> "ParameterList":
        return self.extend(values)

    def extra_repr(self) -> str:
        return "\n".join("  " + _describe_tensor(i, p, False) for i, p in enumerate(self))

    def __dir__(self) -> list[str]:
        return [key for key in super().__dir__() if not key.isdigit()]


class ParameterDict(Module):
    """An ordered dict of parameters registered under their keys (Tensors are made
    Parameters): ``d[key]``, ``d[key] = p``, ``del``, ``in``, ``len``, iteration over keys,
    keys/values/items/update/pop/popitem/get/setdefault/copy/fromkeys/clear."""

    def __init__(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None) -> None:
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: keys must be strings, got {type(key).__name__}")
        self._keys[key] = None
        setattr(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def keys(self) -> Iterable[str]:
        """The keys, in insertion order."""
        return self._keys.keys()

    def values(self) -> list[Any]:
        """The parameters, in insertion order."""
        return [self[k] for k in self._keys]

    def items(self) -> list[tuple[str, Any]]:
        """(key, parameter) pairs, in insertion order."""
        return [(k, self[k]) for k in self._keys]

    def get(self, key: str, default: Any = None) -> Any:
        """The parameter at ``key``, or ``default``."""
        return self[key] if key in self else default

    def update(self, parameters: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> None:
        """Add or replace the entries of ``parameters`` (a plain dict's in sorted key order, as torch)."""
        for key, value in _items(parameters, sort_plain=True):
            self[key] = value

    def pop(self, key: str) -> Any:
        """Remove ``key`` and return its parameter."""
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove the last inserted entry and return it as (key, parameter)."""
        if not self._keys:
            raise KeyError("popitem(): dictionary is empty (the ParameterDict has no entries)")
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """The parameter at ``key``, first set to ``default`` when ``key`` is absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> "ParameterDict":
        """A new ParameterDict holding the same parameters (not copies of them), in the same order."""
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> "ParameterDict":
        """A new ParameterDict with each of ``keys`` set to ``default``."""
        return ParameterDict((k, default) for k in keys)

    def clear(self) -> None:
        """Remove every entry."""
        for key in list(self._keys):
            del self[key]

    def extra_repr(self) -> str:
        return "\n".join("  " + _describe_tensor(k, p, True) for k, p in self.items())
