"""A pickle reader that never runs code from the file (PyTorch's weights-only unpickler, re-made).

It interprets the binary pickle opcodes itself. A GLOBAL resolves only through the
``allowed_globals`` table it is given; any other name is refused with an UnpicklingError
naming it, before anything is called. REDUCE and NEWOBJ call only objects from that table,
BUILD only sets the state of an OrderedDict (a state dict's ``_metadata``) or of an instance
of a class from the table (``__setstate__``, else its ``__dict__``), APPEND only extends lists
and SETITEM only fills dicts, as torch's ``_weights_only_unpickler`` does.
The opcodes that import or call by other routes (INST, OBJ, EXT*, NEWOBJ_EX, the text
protocol's PERSID) are refused.
"""

from __future__ import annotations

import pickle
import struct
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from typing import IO, Any

_DICT_TYPES = (dict, OrderedDict, Counter)


class WeightsUnpickler:
    """Reads one pickle from ``file`` (binary protocols 2 to 5), resolving globals only through
    ``allowed_globals`` ('module.name' -> object) and persistent ids through ``persistent_load``.
    ``alias`` may name the object another name stands for; it is accepted only when that object
    is in the table too. Python 2 byte strings are decoded with ``encoding`` (torch uses utf-8)."""

    def __init__(self, file: IO[bytes], allowed_globals: Mapping[str, Any],
                 persistent_load: Callable[[Any], Any], encoding: str = "utf-8",
                 alias: Callable[[str], Any] | None = None) -> None:
        self._read = file.read
        self._readline = file.readline
        self._allowed = allowed_globals
        self._alias = alias
        self._callables = {id(value) for value in allowed_globals.values()}
        self._persistent_load = persistent_load
        self._encoding = encoding

    def load(self) -> Any:
        """The object the pickle describes. Raises pickle.UnpicklingError for a refused global
        or opcode and for a damaged or truncated stream."""
        self._stack: list[Any] = []
        self._metastack: list[list[Any]] = []
        self._memo: dict[int, Any] = {}
        while True:
            code = self._read(1)
            if not code:
                raise pickle.UnpicklingError("the pickle ends before its STOP opcode (truncated data)")
            handler = _HANDLERS.get(code[0])
            if handler is None:
                raise pickle.UnpicklingError(f"unsupported or refused pickle opcode {code!r}")
            try:
                if handler(self) is _STOP:
                    return self._stack.pop()
            except (IndexError, KeyError, TypeError, ValueError, struct.error, UnicodeDecodeError) as exc:
                raise pickle.UnpicklingError(f"damaged pickle at opcode {code!r}: {exc!r}") from None

    # ------------------------------------------------------------------ reading helpers
    def _take(self, n: int) -> bytes:
        data = self._read(n) if n >= 0 else b""
        if len(data) != n:
            raise pickle.UnpicklingError("the pickle ends inside an opcode's argument (truncated data)")
        return data

    def _unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self._take(struct.calcsize(fmt)))[0]

    def _pop_mark(self) -> list[Any]:
        items = self._stack
        self._stack = self._metastack.pop()
        return items

    def _global(self, module: str, name: str) -> Any:
        if (module, name) in NAME_MAPPING:
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        full = f"{module}.{name}"
        if full in self._allowed:
            return self._allowed[full]
        found = None if self._alias is None else self._alias(full)
        if found is not None and id(found) in self._callables:
            return found
        raise pickle.UnpicklingError(
            f"Unsupported global: GLOBAL {full} was not an allowed global by default: only the tensors, "
            f"containers and numbers that torch.load(weights_only=True) reads are accepted, and nothing from the "
            f"file is run. If you trust {name}, allowlist it with torch.serialization.add_safe_globals([{name}]) "
            f"or the torch.serialization.safe_globals([{name}]) context manager, or load with weights_only=False")

    def _check_callable(self, func: Any, opcode: str) -> None:
        if id(func) not in self._callables:
            raise pickle.UnpicklingError(f"{opcode} of {func!r}, which is not an allowed global")


_STOP = object()


def _push(value_of: Callable[[WeightsUnpickler], Any]) -> Callable[[WeightsUnpickler], None]:
    return lambda u: u._stack.append(value_of(u))


def _op_mark(u: WeightsUnpickler) -> None:
    u._metastack.append(u._stack)
    u._stack = []


def _op_global(u: WeightsUnpickler) -> None:
    module = u._readline()[:-1].decode("utf-8")
    name = u._readline()[:-1].decode("utf-8")
    u._stack.append(u._global(module, name))


def _op_stack_global(u: WeightsUnpickler) -> None:
    name, module = u._stack.pop(), u._stack.pop()
    if type(module) is not str or type(name) is not str:
        raise pickle.UnpicklingError("STACK_GLOBAL needs two strings")
    u._stack.append(u._global(module, name))


def _op_reduce(u: WeightsUnpickler) -> None:
    args = u._stack.pop()
    func = u._stack[-1]
    u._check_callable(func, "REDUCE")
    if type(args) is not tuple:
        raise pickle.UnpicklingError(f"REDUCE arguments must be a tuple, got {type(args).__name__}")
    u._stack[-1] = func(*args)


def _op_newobj(u: WeightsUnpickler) -> None:
    args = u._stack.pop()
    cls = u._stack.pop()
    u._check_callable(cls, "NEWOBJ")
    if not isinstance(cls, type) or type(args) is not tuple:
        raise pickle.UnpicklingError(f"NEWOBJ needs an allowed class and a tuple, got {cls!r}")
    u._stack.append(cls.__new__(cls, *args))


def _op_build(u: WeightsUnpickler) -> None:
    state = u._stack.pop()
    inst = u._stack[-1]
    if type(inst) is OrderedDict:
        if type(state) is not dict or not all(type(k) is str for k in state):
            raise pickle.UnpicklingError("BUILD of an OrderedDict needs a dict of attribute names")
        inst.__dict__.update(state)
        return
    if id(type(inst)) not in u._callables:
        raise pickle.UnpicklingError("BUILD is allowed only for an OrderedDict or an instance of a class allowlisted "
                                     f"with add_safe_globals, got {type(inst).__name__}")
    setstate = getattr(inst, "__setstate__", None)
    if setstate is not None:
        setstate(state)
        return
    slots = None
    if type(state) is tuple and len(state) == 2:  # (__dict__ state, slot state), as pickle's load_build
        state, slots = state
    if state:
        inst.__dict__.update(state)
    for key, value in (slots or {}).items():
        setattr(inst, key, value)


def _op_append(u: WeightsUnpickler) -> None:
    item = u._stack.pop()
    _target(u, list, "APPEND").append(item)


def _op_appends(u: WeightsUnpickler) -> None:
    items = u._pop_mark()
    _target(u, list, "APPENDS").extend(items)


def _op_setitem(u: WeightsUnpickler) -> None:
    value, key = u._stack.pop(), u._stack.pop()
    _target(u, _DICT_TYPES, "SETITEM")[key] = value


def _op_setitems(u: WeightsUnpickler) -> None:
    items = u._pop_mark()
    target = _target(u, _DICT_TYPES, "SETITEMS")
    if len(items) % 2:
        raise pickle.UnpicklingError("SETITEMS needs key/value pairs")
    for i in range(0, len(items), 2):
        target[items[i]] = items[i + 1]


def _op_additems(u: WeightsUnpickler) -> None:
    items = u._pop_mark()
    _target(u, set, "ADDITEMS").update(items)


def _target(u: WeightsUnpickler, types: type | tuple[type, ...], opcode: str) -> Any:
    target = u._stack[-1]
    if type(target) not in (types if isinstance(types, tuple) else (types,)):
        raise pickle.UnpicklingError(f"{opcode} into a {type(target).__name__} is not allowed")
    return target


def _op_persid(u: WeightsUnpickler) -> None:
    pid = u._stack.pop()
    if type(pid) is not tuple:
        raise pickle.UnpicklingError(f"a persistent id must be a tuple, got {type(pid).__name__}")
    u._stack.append(u._persistent_load(pid))


def _op_put(fmt: str) -> Callable[[WeightsUnpickler], None]:
    def put(u: WeightsUnpickler) -> None:
        u._memo[u._unpack(fmt)] = u._stack[-1]
    return put


def _op_get(fmt: str) -> Callable[[WeightsUnpickler], None]:
    return _push(lambda u: u._memo[u._unpack(fmt)])


def _op_memoize(u: WeightsUnpickler) -> None:
    u._memo[len(u._memo)] = u._stack[-1]


def _op_pop(u: WeightsUnpickler) -> None:
    if u._stack:
        u._stack.pop()
    else:
        u._pop_mark()


def _string(fmt: str) -> Callable[[WeightsUnpickler], bytes]:
    return lambda u: u._take(u._unpack(fmt))


def _py2_string(fmt: str) -> Callable[[WeightsUnpickler], None]:
    def load(u: WeightsUnpickler) -> None:
        data = _string(fmt)(u)
        u._stack.append(data if u._encoding == "bytes" else data.decode(u._encoding, "strict"))
    return load


def _tuple(n: int) -> Callable[[WeightsUnpickler], None]:
    def build(u: WeightsUnpickler) -> None:
        items = tuple(u._stack[len(u._stack) - n:]) if n else ()
        if len(items) != n:
            raise pickle.UnpicklingError(f"TUPLE{n} with fewer than {n} items on the stack")
        del u._stack[len(u._stack) - n:]
        u._stack.append(items)
    return build


def _from_mark(kind: type) -> Callable[[WeightsUnpickler], None]:
    def build(u: WeightsUnpickler) -> None:
        items = kind(u._pop_mark())  # pop first: the mark restores the outer stack
        u._stack.append(items)
    return build


def _proto(u: WeightsUnpickler) -> None:
    if u._take(1)[0] > pickle.HIGHEST_PROTOCOL:
        raise pickle.UnpicklingError("unsupported pickle protocol")


_HANDLERS: dict[int, Callable[[WeightsUnpickler], Any]] = {op[0]: handler for op, handler in {
    pickle.PROTO: _proto,
    pickle.FRAME: lambda u: u._take(8),
    pickle.STOP: lambda u: _STOP,
    pickle.MARK: _op_mark,
    pickle.POP: _op_pop,
    pickle.POP_MARK: lambda u: u._pop_mark(),
    pickle.DUP: _push(lambda u: u._stack[-1]),
    pickle.NONE: _push(lambda u: None),
    pickle.NEWTRUE: _push(lambda u: True),
    pickle.NEWFALSE: _push(lambda u: False),
    pickle.BININT: _push(lambda u: u._unpack("<i")),
    pickle.BININT1: _push(lambda u: u._unpack("<B")),
    pickle.BININT2: _push(lambda u: u._unpack("<H")),
    pickle.LONG1: _push(lambda u: pickle.decode_long(_string("<B")(u))),
    pickle.LONG4: _push(lambda u: pickle.decode_long(_string("<i")(u))),
    pickle.BINFLOAT: _push(lambda u: u._unpack(">d")),
    pickle.BINUNICODE: _push(lambda u: str(_string("<I")(u), "utf-8", "surrogatepass")),
    pickle.SHORT_BINUNICODE: _push(lambda u: str(_string("<B")(u), "utf-8", "surrogatepass")),
    pickle.BINUNICODE8: _push(lambda u: str(_string("<Q")(u), "utf-8", "surrogatepass")),
    pickle.SHORT_BINSTRING: _py2_string("<B"),
    pickle.BINSTRING: _py2_string("<i"),
    pickle.SHORT_BINBYTES: _push(_string("<B")),
    pickle.BINBYTES: _push(_string("<I")),
    pickle.BINBYTES8: _push(_string("<Q")),
    pickle.BYTEARRAY8: _push(lambda u: bytearray(_string("<Q")(u))),
    pickle.EMPTY_TUPLE: _tuple(0),
    pickle.TUPLE1: _tuple(1),
    pickle.TUPLE2: _tuple(2),
    pickle.TUPLE3: _tuple(3),
    pickle.TUPLE: _from_mark(tuple),
    pickle.EMPTY_LIST: _push(lambda u: []),
    pickle.LIST: _from_mark(list),
    pickle.APPEND: _op_append,
    pickle.APPENDS: _op_appends,
    pickle.EMPTY_DICT: _push(lambda u: {}),
    pickle.SETITEM: _op_setitem,
    pickle.SETITEMS: _op_setitems,
    pickle.EMPTY_SET: _push(lambda u: set()),
    pickle.ADDITEMS: _op_additems,
    pickle.FROZENSET: _from_mark(frozenset),
    pickle.GLOBAL: _op_global,
    pickle.STACK_GLOBAL: _op_stack_global,
    pickle.REDUCE: _op_reduce,
    pickle.NEWOBJ: _op_newobj,
    pickle.BUILD: _op_build,
    pickle.BINPERSID: _op_persid,
    pickle.BINPUT: _op_put("<B"),
    pickle.LONG_BINPUT: _op_put("<I"),
    pickle.MEMOIZE: _op_memoize,
    pickle.BINGET: _op_get("<B"),
    pickle.LONG_BINGET: _op_get("<I"),
}.items()}
