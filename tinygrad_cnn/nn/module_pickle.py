"""A whole Module through pickle (``torch.save(model)`` / ``torch.load``): its state is its
``__dict__``. A module pickled by PyTorch has torch's ``__dict__`` instead (its hook
dictionaries, ``_parameters``, ``_buffers``, ``_modules``, ``training`` and the layer's own
attributes); ``restore`` adopts that into this package's Module of the same class name.
"""

from __future__ import annotations

import inspect
import pickle
from typing import Any, Callable

from tinygrad_cnn.random import fork_rng

# the hook dictionaries of torch's Module.__dict__ that this package's Module does not have
TORCH_HOOK_KEYS = ("_backward_pre_hooks", "_backward_hooks", "_forward_hooks", "_forward_hooks_with_kwargs",
                   "_forward_hooks_always_called", "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
                   "_state_dict_hooks", "_state_dict_pre_hooks", "_load_state_dict_pre_hooks",
                   "_load_state_dict_post_hooks")
REGISTRIES = ("_parameters", "_buffers", "_modules")


def restore(module: Any, state: dict[str, Any], base_init: Callable[[Any], None]) -> None:
    """Give ``module`` (made by ``cls.__new__``) the pickled ``state``: this package's own
    ``__dict__`` as it is, or torch's adopted (``_adopt_torch_state``; ``base_init`` is
    Module.__init__, which makes the empty registries)."""
    if type(state) is not dict:
        raise pickle.UnpicklingError(f"{type(module).__name__}: a Module's pickled state must be a dict, "
                                     f"got {type(state).__name__}")
    if "_backward_hooks" not in state:
        module.__dict__.update(state)
        return
    _adopt_torch_state(module, state, base_init)


def _adopt_torch_state(module: Any, state: dict[str, Any], base_init: Callable[[Any], None]) -> None:
    """torch's Module state into this package's Module. A class of this package is built by its
    ``__init__`` from the attributes torch keeps under the same names (so its own attributes are
    its own), then takes the file's parameters, buffers, children and mode; a user's class (a
    subclass defined by the program) takes every attribute as pickled."""
    hooks = [key for key in TORCH_HOOK_KEYS if state.get(key)]
    if hooks:
        raise pickle.UnpicklingError(f"{type(module).__name__}: the pickled module has hooks ({', '.join(hooks)}), "
                                     "which cannot be carried over; remove them before torch.save")
    cls = type(module)
    registries = {key: dict(state.get(key) or {}) for key in REGISTRIES}
    arguments = None if not cls.__module__.startswith("tinygrad_cnn.") else _init_arguments(cls, state, registries)
    if arguments is None:
        base_init(module)
        for key, value in state.items():
            if key not in TORCH_HOOK_KEYS and key not in REGISTRIES and key != "_non_persistent_buffers_set":
                object.__setattr__(module, key, value)
    else:
        with fork_rng():  # the initial weights it draws are replaced: loading leaves the generator as it was
            cls.__init__(module, **arguments)
    for name, param in registries["_parameters"].items():
        module.register_parameter(name, param)
    for name, buffer in registries["_buffers"].items():
        module.register_buffer(name, buffer, persistent=name not in state.get("_non_persistent_buffers_set", ()))
    for name, child in registries["_modules"].items():
        module.add_module(name, child)
    object.__setattr__(module, "training", bool(state.get("training", True)))


def _init_arguments(cls: type, state: dict[str, Any], registries: dict[str, dict]) -> dict[str, Any] | None:
    """The keyword arguments of ``cls.__init__`` that torch's pickled ``state`` holds (a ``bias``
    flag read from whether the bias parameter is None), or None when a required one is missing."""
    arguments: dict[str, Any] = {}
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        if name in state:
            arguments[name] = state[name]
        elif name == "bias" and "bias" in registries["_parameters"]:
            arguments[name] = registries["_parameters"]["bias"] is not None
        elif parameter.default is parameter.empty:
            return None
    return arguments
