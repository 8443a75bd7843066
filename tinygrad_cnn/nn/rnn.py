"""Recurrent layers as torch.nn: RNNCell, LSTMCell, GRUCell and the multi-layer, optionally
bidirectional RNN, LSTM and GRU over whole sequences, padded or packed (a PackedSequence in
gives a PackedSequence out, each sequence's final state taken at its own last step). Each
step is built from differentiable ops (linear maps, sigmoid, tanh), so backward runs through
time by itself. Parameters have torch's names, shapes, gate order (LSTM: input, forget, cell,
output; GRU: reset, update, new) and initialisation U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.argcheck import is_int, positive_int
from tinygrad_cnn.functions import cat, stack
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.functional_conv import linear
from tinygrad_cnn.nn.factory import cast_to, factory_dtype
from tinygrad_cnn.nn.functional_dropout import dropout
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.nn.utils.rnn import PackedSequence
from tinygrad_cnn.tensor import Tensor

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, x: Tensor, state: Any, weights: tuple) -> Any:
    """One time step of ``mode`` for input x (N, I) and state h (N, H) (LSTM: (h, c), h projected
    to (N, proj_size) by a weight_hr when there is one); returns the new state."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    h = state[0] if mode == "LSTM" else state
    gates_x, gates_h = linear(x, w_ih, b_ih), linear(h, w_hh, b_hh)
    if mode == "RNN_TANH":
        return (gates_x + gates_h).tanh()
    if mode == "RNN_RELU":
        return (gates_x + gates_h).relu()
    if mode == "LSTM":
        i, f, g, o = (gates_x + gates_h).chunk(4, 1)
        c = f.sigmoid() * state[1] + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        return (h if w_hr is None else linear(h, w_hr)), c
    xr, xz, xn = gates_x.chunk(3, 1)
    hr, hz, hn = gates_h.chunk(3, 1)
    r, z = (xr + hr).sigmoid(), (xz + hz).sigmoid()
    n = (xn + r * hn).tanh()
    return (1 - z) * n + z * h


def _rows(state: Any, start: int, stop: int) -> Any:
    """Rows start:stop of a state (h, or LSTM's (h, c))."""
    return tuple(s[start:stop] for s in state) if isinstance(state, tuple) else state[start:stop]


def _join(first: Any, second: Any) -> Any:
    """Two states' rows one after the other."""
    if isinstance(first, tuple):
        return tuple(cat([a, b]) for a, b in zip(first, second))
    return cat([first, second])


def _direction(mode: str, data: Tensor, batch_sizes: list[int], state: Any, weights: tuple,
               reverse: bool) -> tuple[Tensor, Any]:
    """One direction of one layer over packed ``data`` (sum(batch_sizes), I): step t holds the
    first batch_sizes[t] sequences (batch sizes never grow). From ``state`` (N, H) rows (LSTM:
    (h, c)), returns (outputs (sum(batch_sizes), H) in data's order, the final state of every
    sequence: after its last step, or, in ``reverse``, after its first)."""
    starts = np.concatenate([[0], np.cumsum(batch_sizes)]).tolist()
    outputs: list = [None] * len(batch_sizes)
    if reverse:  # a sequence joins, from its own initial state, at its last step
        current = _rows(state, 0, batch_sizes[-1])
        for t in reversed(range(len(batch_sizes))):
            held = (current[0] if mode == "LSTM" else current).shape[0]
            if held < batch_sizes[t]:
                current = _join(current, _rows(state, held, batch_sizes[t]))
            current = _step(mode, data[starts[t]:starts[t + 1]], current, weights)
            outputs[t] = current[0] if mode == "LSTM" else current
        return cat(outputs), current
    current = state
    total = (state[0] if mode == "LSTM" else state).shape[0]
    for t, size in enumerate(batch_sizes):  # finished sequences (rows size:) keep their last state
        if size == total:
            current = new = _step(mode, data[starts[t]:starts[t + 1]], current, weights)
        else:
            new = _step(mode, data[starts[t]:starts[t + 1]], _rows(current, 0, size), weights)
            current = _join(new, _rows(current, size, total))
        outputs[t] = new[0] if mode == "LSTM" else new
    return cat(outputs), current


def _add_parameters(module: Module, suffix: str, gates: int, width: int, hidden: int, bias: bool,
                    proj_size: int = 0) -> None:
    """Give ``module`` (uninitialised, float32) weight_ih{suffix} (gates, width), weight_hh{suffix}
    (gates, proj_size or hidden), with ``bias`` bias_ih{suffix} and bias_hh{suffix} (gates,) (else,
    for a cell's, with no suffix, None), with ``proj_size`` weight_hr{suffix} (proj_size, hidden):
    torch's names and order."""
    shapes = {"weight_ih": (gates, width), "weight_hh": (gates, proj_size or hidden), "bias_ih": (gates,),
              "bias_hh": (gates,), "weight_hr": (proj_size, hidden)}
    for kind, shape in shapes.items():
        if (bias or not kind.startswith("bias")) and (proj_size or kind != "weight_hr"):
            module.register_parameter(kind + suffix, Parameter(np.empty(shape, dtype=np.float32)))
        elif not suffix and kind.startswith("bias"):
            module.register_parameter(kind, None)


def _uniform_parameters(module: Module, hidden_size: int) -> None:
    bound = 1 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _Cell(Module):
    """One step of an RNN, LSTM or GRU: (input (N, I) or (I,), state) -> new state."""

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        name = type(self).__name__
        dtype = factory_dtype(device, dtype, name)
        super().__init__()
        self.input_size = positive_int(input_size, "input_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        self.bias = bias
        _add_parameters(self, "", GATES[self.mode] * hidden_size, input_size, hidden_size, bias)
        self.reset_parameters()
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch's."""
        _uniform_parameters(self, self.hidden_size)

    def forward(self, input: Tensor, hx: Any = None) -> Any:
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        batched = input.ndim == 2
        x = input if batched else input.unsqueeze(0)
        if hx is None:
            zeros = Tensor(np.zeros((x.shape[0], self.hidden_size), dtype=input.dtype))
            hx = (zeros, zeros) if self.mode == "LSTM" else zeros
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(0)
        state = _step(self.mode, x, hx, (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, None))
        if batched:
            return state
        return tuple(s.squeeze(0) for s in state) if self.mode == "LSTM" else state.squeeze(0)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        return text + ("" if nonlinearity == "tanh" else f", nonlinearity={nonlinearity}")


class RNNCell(_Cell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu, with ``nonlinearity="relu"``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity}")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity


class LSTMCell(_Cell):
    """(h', c') from gates i, f, g, o of x W_ih^T + b_ih + h W_hh^T + b_hh: c' = f c + i g, h' = o tanh(c')."""

    mode = "LSTM"


class GRUCell(_Cell):
    """h' = (1 - z) n + z h, with reset r, update z and new n = tanh(x W_in + r (h W_hn + b_hn))."""

    mode = "GRU"


class _RNNBase(Module):
    """num_layers stacked recurrences over (L, N, input_size) (``batch_first``: (N, L, ...);
    unbatched (L, input_size); or a PackedSequence), each direction of each layer with its own
    parameters (LSTM's with ``proj_size``: also weight_hr, projecting h to proj_size)."""

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device: Any = None, dtype: Any = None) -> None:
        name = type(self).__name__
        dtype = factory_dtype(device, dtype, name)
        super().__init__()
        self.input_size = positive_int(input_size, "input_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        self.num_layers = positive_int(num_layers, "num_layers", name)
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout}")
        if not is_int(proj_size) or not 0 <= proj_size < hidden_size:  # torch's two messages in one
            raise ValueError(f"{name}: proj_size should be a positive integer or zero to disable projections, and "
                             f"proj_size has to be smaller than hidden_size (got {proj_size!r}, hidden_size "
                             f"{hidden_size})")
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        self.proj_size, directions = int(proj_size), 2 if bidirectional else 1
        for layer in range(num_layers):
            width = input_size if layer == 0 else (proj_size or hidden_size) * directions
            for suffix in ("", "_reverse")[:directions]:
                _add_parameters(self, f"_l{layer}{suffix}", GATES[self.mode] * hidden_size, width, hidden_size, bias,
                                proj_size)
        self.reset_parameters()
        cast_to(self, dtype)

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch's."""
        _uniform_parameters(self, self.hidden_size)

    def flatten_parameters(self) -> None:
        """Nothing to do, as torch's on the CPU (it packs cuDNN's weight buffer on a GPU)."""

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Each layer and direction's parameters (weight_ih, weight_hh[, bias_ih, bias_hh][, weight_hr])."""
        directions = ("", "_reverse") if self.bidirectional else ("",)
        return [[w for w in self._weights(layer, suffix) if w is not None]
                for layer in range(self.num_layers) for suffix in directions]

    def _weights(self, layer: int, suffix: str) -> tuple:
        return tuple(getattr(self, f"{kind}_l{layer}{suffix}", None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    def check_input(self, input: Tensor, batch_sizes: Tensor | None) -> None:
        """torch's checks of a 3-D input (2-D packed data with ``batch_sizes``): dtype, rank, input_size."""
        name, weight_dtype = type(self).__name__, self.weight_ih_l0.dtype
        if input.dtype != weight_dtype:
            raise ValueError(f"{name}: RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                             f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        expected = 2 if batch_sizes is not None else 3
        if input.dim() != expected:
            raise RuntimeError(f"{name}: input must have {expected} dimensions, got {input.dim()}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {input.shape[-1]}")

    def get_expected_hidden_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """(num_layers * directions, N, proj_size or hidden_size): the shape h_0 must have."""
        return self._state_shape(input, batch_sizes, self.proj_size or self.hidden_size)

    def _state_shape(self, input: Tensor, batch_sizes: Tensor | None, width: int) -> tuple[int, int, int]:
        batch = int(batch_sizes[0]) if batch_sizes is not None else input.shape[0 if self.batch_first else 1]
        return self.num_layers * (2 if self.bidirectional else 1), batch, width

    def check_hidden_size(self, hx: Tensor, expected_hidden_size: tuple[int, int, int],
                          msg: str = "Expected hidden size {}, got {}") -> None:
        """RuntimeError (``msg`` filled with both shapes) unless hx has ``expected_hidden_size``."""
        if tuple(hx.shape) != tuple(expected_hidden_size):
            raise RuntimeError(f"{type(self).__name__}: " + msg.format(tuple(expected_hidden_size), list(hx.shape)))

    def check_forward_args(self, input: Tensor, hidden: Tensor, batch_sizes: Tensor | None) -> None:
        """check_input, then the shape of the initial state ``hidden``."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx: Any, permutation: Tensor | None) -> Any:
        """A (layers * directions, N, H) state (or LSTM's pair) with its batch reordered by ``permutation``."""
        if permutation is None:
            return hx
        if isinstance(hx, tuple):
            return tuple(h.index_select(1, permutation) for h in hx)
        return hx.index_select(1, permutation)

    def _zeros(self, input: Tensor, batch_sizes: Tensor | None) -> Any:
        """The default initial state: zeros of the expected shape (LSTM: and of the cell's)."""
        h = Tensor(np.zeros(self.get_expected_hidden_size(input, batch_sizes), dtype=input.dtype))
        if self.mode != "LSTM":
            return h
        return h, Tensor(np.zeros(self.get_expected_cell_size(input, batch_sizes), dtype=input.dtype))

    def _layers(self, data: Tensor, batch_sizes: list[int], states: list) -> tuple[Tensor, list]:
        """Every layer over packed ``data`` (see _direction): (the last layer's output data, final states)."""
        directions = ("", "_reverse") if self.bidirectional else ("",)
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(directions):
                out, final = _direction(self.mode, data, batch_sizes, states[layer * len(directions) + d],
                                        self._weights(layer, suffix), bool(suffix))
                outputs.append(out)
                finals.append(final)
            data = outputs[0] if len(outputs) == 1 else cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                data = dropout(data, self.dropout)
        return data, finals

    def forward(self, input: Tensor | PackedSequence, hx: Any = None) -> tuple[Tensor | PackedSequence, Any]:
        name = type(self).__name__
        packed, lstm = isinstance(input, PackedSequence), self.mode == "LSTM"
        sorted_indices = unsorted_indices = sizes = None
        if packed:
            x, sizes, sorted_indices, unsorted_indices = input
            batched = True
        elif not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, got {type(input).__name__}")
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(0 if self.batch_first else 1)
        if hx is None:
            hx = self._zeros(x, sizes)
        else:
            ranks, want = [h.ndim for h in hx] if lstm else [hx.ndim], 3 if batched else 2
            if any(r != want for r in ranks):
                got = ", ".join(f"{r}-D" for r in ranks)
                raise RuntimeError(f"{name}: For {'batched 3-D' if batched else 'unbatched 2-D'} input, "
                                   f"{'hx and cx' if lstm else 'hx'} should also be {want}-D but got "
                                   f"{f'({got}) tensors' if lstm else got + ' tensor'}")
            if not batched:
                hx = tuple(h.unsqueeze(1) for h in hx) if lstm else hx.unsqueeze(1)
            hx = self.permute_hidden(hx, sorted_indices)  # the caller's batch order -> the packed (sorted) order
        self.check_forward_args(x, hx, sizes)
        if packed:
            data, batch_sizes = x, [int(n) for n in sizes.tolist()]
        else:
            if self.batch_first:
                x = x.transpose(0, 1)
            length, batch = x.shape[:2]
            data, batch_sizes = x.reshape(length * batch, x.shape[2]), [batch] * length
        states = [(hx[0][k], hx[1][k]) for k in range(hx[0].shape[0])] if lstm else [hx[k] for k in range(hx.shape[0])]
        data, finals = self._layers(data, batch_sizes, states)
        hidden = (stack([s[0] for s in finals]), stack([s[1] for s in finals])) if lstm else stack(finals)
        if packed:
            return PackedSequence(data, sizes, sorted_indices, unsorted_indices), self.permute_hidden(
                hidden, unsorted_indices)
        out = data.reshape(length, batch, data.shape[1])
        if not batched:
            return out.squeeze(1), (tuple(h.squeeze(1) for h in hidden) if lstm else hidden.squeeze(1))
        return (out.transpose(0, 1) if self.batch_first else out), hidden

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False),
                              ("dropout", 0), ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu); returns
    (output (L, N, D * H), h_n (D * num_layers, N, H))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory over sequences; returns (output (L, N, D * H'), (h_n (D *
    num_layers, N, H'), c_n (D * num_layers, N, H))), H' = proj_size when given, else H."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device: Any = None, dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, proj_size,
                         device, dtype)

    def get_expected_cell_size(self, input: Tensor, batch_sizes: Tensor | None) -> tuple[int, int, int]:
        """(num_layers * directions, N, hidden_size): the shape c_0 must have."""
        return self._state_shape(input, batch_sizes, self.hidden_size)

    def check_forward_args(self, input: Tensor, hidden: tuple[Tensor, Tensor],  # type: ignore[override]
                           batch_sizes: Tensor | None) -> None:
        """check_input, then the shapes of h_0 and c_0."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")


class GRU(_RNNBase):
    """Gated recurrent unit over sequences; returns (output, h_n)."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)
