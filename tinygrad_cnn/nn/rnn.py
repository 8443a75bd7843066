"""Recurrent layers as torch.nn: RNNCell, LSTMCell, GRUCell and the multi-layer, optionally
bidirectional RNN, LSTM and GRU over whole sequences, padded or packed (a PackedSequence in
gives a PackedSequence out, each sequence's final state taken at its own last step). Each
step is built from differentiable ops (linear maps, sigmoid, tanh), so backward runs through
time by itself. Parameters have
torch's names, shapes, gate order (LSTM: input, forget, cell, output; GRU: reset, update, new)
and initialisation U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)); state_dicts load either way.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_cnn.argcheck import positive_int
from tinygrad_cnn.functions import cat, stack
from tinygrad_cnn.nn import init
from tinygrad_cnn.nn.functional_conv import linear
from tinygrad_cnn.nn.functional_dropout import dropout
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter
from tinygrad_cnn.nn.utils.rnn import PackedSequence
from tinygrad_cnn.tensor import Tensor

GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _step(mode: str, x: Tensor, state: Any, weights: tuple) -> Any:
    """One time step of ``mode`` for input x (N, I) and state h (N, H) (LSTM: (h, c)); returns the new state."""
    w_ih, w_hh, b_ih, b_hh = weights
    h = state[0] if mode == "LSTM" else state
    gates_x, gates_h = linear(x, w_ih, b_ih), linear(h, w_hh, b_hh)
    if mode == "RNN_TANH":
        return (gates_x + gates_h).tanh()
    if mode == "RNN_RELU":
        return (gates_x + gates_h).relu()
    if mode == "LSTM":
        i, f, g, o = (gates_x + gates_h).chunk(4, 1)
        c = f.sigmoid() * state[1] + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
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


def _permute(state: Any, indices: Tensor | None) -> Any:
    """A (layers * directions, N, H) state (or LSTM's pair) with its batch reordered by ``indices``."""
    if state is None or indices is None:
        return state
    if isinstance(state, tuple):
        return tuple(s.index_select(1, indices) for s in state)
    return state.index_select(1, indices)


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


def _uniform_parameters(module: Module, hidden_size: int) -> None:
    bound = 1 / math.sqrt(hidden_size)
    for p in module.parameters():
        init.uniform_(p, -bound, bound)


class _Cell(Module):
    """One step of an RNN, LSTM or GRU: (input (N, I) or (I,), state) -> new state."""

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        self.bias = bias
        gates = GATES[self.mode] * hidden_size
        self.weight_ih = Parameter(np.empty((gates, input_size), dtype=np.float32))
        self.weight_hh = Parameter(np.empty((gates, hidden_size), dtype=np.float32))
        if bias:
            self.bias_ih = Parameter(np.empty(gates, dtype=np.float32))
            self.bias_hh = Parameter(np.empty(gates, dtype=np.float32))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch's."""
        _uniform_parameters(self, self.hidden_size)

    def _run(self, input: Tensor, hx: Any) -> Any:
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
        state = _step(self.mode, x, hx, (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh))
        if batched:
            return state
        return tuple(s.squeeze(0) for s in state) if self.mode == "LSTM" else state.squeeze(0)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text


class RNNCell(_Cell):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu, with ``nonlinearity="relu"``)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh") -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: Unknown nonlinearity: {nonlinearity}")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run(input, hx)


class LSTMCell(_Cell):
    """(h', c') from gates i, f, g, o of x W_ih^T + b_ih + h W_hh^T + b_hh: c' = f c + i g, h' = o tanh(c')."""

    mode = "LSTM"

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        return self._run(input, hx)


class GRUCell(_Cell):
    """h' = (1 - z) n + z h, with reset r, update z and new n = tanh(x W_in + r (h W_hn + b_hn))."""

    mode = "GRU"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._run(input, hx)


class _RNNBase(Module):
    """num_layers stacked recurrences over (L, N, input_size) (``batch_first``: (N, L, ...);
    unbatched (L, input_size); or a PackedSequence), each direction of each layer with its own
    parameters."""

    mode = ""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(input_size, "input_size", name)
        self.hidden_size = positive_int(hidden_size, "hidden_size", name)
        self.num_layers = positive_int(num_layers, "num_layers", name)
        if not 0 <= dropout <= 1 or isinstance(dropout, bool):
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing the probability of "
                             f"an element being zeroed, got {dropout}")
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        gates = GATES[self.mode] * hidden_size
        directions = 2 if bidirectional else 1
        for layer in range(num_layers):
            for suffix in ("", "_reverse")[:directions]:
                width = input_size if layer == 0 else hidden_size * directions
                setattr(self, f"weight_ih_l{layer}{suffix}", Parameter(np.empty((gates, width), dtype=np.float32)))
                setattr(self, f"weight_hh_l{layer}{suffix}",
                        Parameter(np.empty((gates, hidden_size), dtype=np.float32)))
                if bias:
                    setattr(self, f"bias_ih_l{layer}{suffix}", Parameter(np.empty(gates, dtype=np.float32)))
                    setattr(self, f"bias_hh_l{layer}{suffix}", Parameter(np.empty(gates, dtype=np.float32)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every parameter ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch's."""
        _uniform_parameters(self, self.hidden_size)

    def _weights(self, layer: int, suffix: str) -> tuple:
        return tuple(getattr(self, f"{kind}_l{layer}{suffix}", None)
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _initial(self, hx: Any, batch: int, dtype: np.dtype, batched: bool) -> list:
        """The initial state per layer and direction (hx's (layers*directions, N, H) split, or zeros)."""
        count = self.num_layers * (2 if self.bidirectional else 1)
        if hx is None:
            zeros = Tensor(np.zeros((count, batch, self.hidden_size), dtype=dtype))
            hx = (zeros, zeros) if self.mode == "LSTM" else zeros
        elif not batched:
            hx = tuple(h.unsqueeze(1) for h in hx) if self.mode == "LSTM" else hx.unsqueeze(1)
        expected = (count, batch, self.hidden_size)
        for h in (hx if self.mode == "LSTM" else (hx,)):
            if tuple(h.shape) != expected:
                raise RuntimeError(f"{type(self).__name__}: Expected hidden size {expected}, got {tuple(h.shape)}")
        if self.mode == "LSTM":
            return [(hx[0][k], hx[1][k]) for k in range(count)]
        return [hx[k] for k in range(count)]

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
        packed = isinstance(input, PackedSequence)
        if packed:
            data, sizes, sorted_indices, unsorted_indices = input
            if data.ndim != 2:
                raise ValueError(f"{name}: Expected a PackedSequence of 2D data, got {data.ndim}D data")
            batch_sizes, batched = [int(n) for n in sizes.tolist()], True
            batch = batch_sizes[0]
            hx = _permute(hx, sorted_indices)  # the caller's batch order -> the packed (sorted) order
        elif not isinstance(input, Tensor):
            raise TypeError(f"{name}: input must be a Tensor or a PackedSequence, got {type(input).__name__}")
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.ndim}D instead")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            length, batch = x.shape[:2]
            data, batch_sizes = x.reshape(length * batch, x.shape[2]), [batch] * length
        if data.shape[1] != self.input_size:
            raise RuntimeError(f"{name}: input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[1]}")
        data, finals = self._layers(data, batch_sizes, self._initial(hx, batch, data.dtype, batched))
        if self.mode == "LSTM":
            hidden = (stack([s[0] for s in finals]), stack([s[1] for s in finals]))
        else:
            hidden = stack(finals)
        if packed:
            return PackedSequence(data, sizes, sorted_indices, unsorted_indices), _permute(hidden, unsorted_indices)
        out = data.reshape(length, batch, data.shape[1])
        if not batched:
            return out.squeeze(1), (tuple(h.squeeze(1) for h in hidden) if self.mode == "LSTM" else hidden.squeeze(1))
        return (out.transpose(0, 1) if self.batch_first else out), hidden

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text


class RNN(_RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (or relu); returns
    (output (L, N, D * H), h_n (D * num_layers, N, H))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        self.mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)
        self.nonlinearity = nonlinearity


class LSTM(_RNNBase):
    """Long short-term memory over sequences; returns (output, (h_n, c_n)). ``proj_size`` is not supported."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0) -> None:
        if proj_size:
            raise NotImplementedError("LSTM: proj_size > 0 is not supported")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class GRU(_RNNBase):
    """Gated recurrent unit over sequences; returns (output, h_n)."""

    mode = "GRU"
