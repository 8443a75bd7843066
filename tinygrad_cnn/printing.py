"""How tensors print, as torch's print options: ``set_printoptions`` / ``get_printoptions``
(precision, threshold, edgeitems, linewidth, sci_mode; the profiles "default", "short" and
"full"), read by ``Tensor.__repr__`` through ``format_values``."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np

PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_options: dict[str, Any] = {**PROFILES["default"], "sci_mode": None}


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as torch.set_printoptions: ``precision`` digits after the point
    (4), summarize (``edgeitems`` per end of each dim, 3) tensors of more than ``threshold``
    elements (1000), wrap lines at ``linewidth`` (80); ``sci_mode`` True/False forces or forbids
    scientific notation, None (what every call without it sets, as torch's) chooses. ``profile``
    ("default", "short" or "full": no summarizing) first resets the other four."""
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(PROFILES)}, got {profile!r}")
        _options.update(PROFILES[profile])
    for name, value in (("precision", precision), ("threshold", threshold), ("edgeitems", edgeitems),
                        ("linewidth", linewidth)):
        if value is not None:
            _options[name] = value
    _options["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options: precision, threshold, edgeitems, linewidth and sci_mode."""
    return dict(_options)


def _forced_notation(array: np.ndarray, precision: int, scientific: bool) -> dict[str, Any]:
    """A formatter writing every float in one notation with ``precision`` digits after the point
    (as torch's sci_mode True/False), right-aligned to the widest value's width."""
    def write(v: Any) -> str:
        if scientific:
            return np.format_float_scientific(v, precision=precision, unique=False, exp_digits=2)
        return np.format_float_positional(v, precision=precision, unique=False, fractional=True)

    finite = array[np.isfinite(array)]
    widest = list(np.unique(array[~np.isfinite(array)]))  # nan, inf, -inf
    if finite.size:  # the longest string is the largest, the smallest or the tiniest value's
        widest += [finite.max(), finite.min(), finite[np.argmin(np.abs(finite))]]
    width = max((len(write(v)) for v in widest), default=0)
    return {"float_kind": lambda v: write(v).rjust(width)}


def format_values(array: np.ndarray, prefix: str) -> str:
    """``array``'s values as Tensor's repr shows them (np.array2string, ", "-separated, lines
    continued under ``prefix``), with the current print options: floats in NumPy's notation
    (its choice between fixed and scientific) unless ``sci_mode`` forces one."""
    precision, sci_mode, threshold = int(_options["precision"]), _options["sci_mode"], _options["threshold"]
    forced = sci_mode is not None and array.dtype.kind == "f"
    return np.array2string(array, separator=", ", prefix=prefix, precision=precision,
                           threshold=sys.maxsize if threshold == math.inf else int(threshold),
                           edgeitems=int(_options["edgeitems"]), max_line_width=int(_options["linewidth"]),
                           formatter=_forced_notation(array, precision, bool(sci_mode)) if forced else None)
