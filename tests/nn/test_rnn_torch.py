"""RNN, LSTM, GRU and their cells against PyTorch from the same weights: outputs, final states,
the gradients of the input and of every parameter (float64), across layers, directions,
batch_first, no bias, unbatched inputs and given initial states; reprs, parameter names,
initialisation bounds and errors (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn as nn

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)


def _twins(name: str, *args, **kwargs):
    """Our layer and torch's, ours loaded with torch's (float64) weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    ours = getattr(nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs) and list(ours.state_dict()) == list(theirs.state_dict())
    theirs.double()
    ours.double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(result) -> list:
    """Every tensor of a (nested) layer result."""
    if isinstance(result, tuple):
        return [t for part in result for t in _flat(part)]
    return [result]


def _compare(ours, theirs, x: np.ndarray, state=None) -> None:
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    wrap = lambda lib: None if state is None else (tuple(lib.tensor(s) for s in state) if isinstance(state, tuple)
                                                   else lib.tensor(state))  # noqa: E731
    outs, refs = _flat(ours(a, wrap(tg))), _flat(theirs(b, wrap(torch)))
    assert len(outs) == len(refs)
    for out, ref in zip(outs, refs):
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    scale = lambda t, lib: lib.tensor(np.linspace(-1, 1, t.numel()).reshape(tuple(t.shape)))  # noqa: E731
    sum(((o * scale(o, tg)).sum() for o in outs[1:]), (outs[0] * scale(outs[0], tg)).sum()).backward()
    sum(((r * scale(r, torch)).sum() for r in refs[1:]), (refs[0] * scale(refs[0], torch)).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


OPTIONS = [dict(), dict(num_layers=2), dict(bidirectional=True), dict(num_layers=2, bidirectional=True,
                                                                       batch_first=True), dict(bias=False)]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("options", OPTIONS)
def test_recurrent_layers_match_torch(name, options):
    ours, theirs = _twins(name, 4, 6, **options)
    x = RNG.normal(size=(3, 5, 4) if options.get("batch_first") else (5, 3, 4))
    _compare(ours, theirs, x)


def test_relu_rnn_and_given_states_and_unbatched_inputs_match_torch():
    _compare(*_twins("RNN", 4, 6, nonlinearity="relu"), RNG.normal(size=(5, 3, 4)))
    _compare(*_twins("GRU", 4, 6, num_layers=2), RNG.normal(size=(5, 3, 4)), RNG.normal(size=(2, 3, 6)))
    _compare(*_twins("LSTM", 4, 6), RNG.normal(size=(5, 4)), (RNG.normal(size=(1, 6)), RNG.normal(size=(1, 6))))
    _compare(*_twins("RNN", 4, 6, bidirectional=True), RNG.normal(size=(5, 4)))


@pytest.mark.parametrize("name, args", [("RNNCell", ()), ("RNNCell", (True, "relu")), ("LSTMCell", ()),
                                        ("GRUCell", ()), ("GRUCell", (False,))])
@pytest.mark.parametrize("shape", [(3, 4), (4,)])
def test_cells_match_torch(name, args, shape):
    ours, theirs = _twins(name, 4, 6, *args)
    _compare(ours, theirs, RNG.normal(size=shape))
    batch = shape[:-1]
    state = (RNG.normal(size=batch + (6,)), RNG.normal(size=batch + (6,))) if name == "LSTMCell" \
        else RNG.normal(size=batch + (6,))
    _compare(ours, theirs, RNG.normal(size=shape), state)


def test_recurrent_parameters_start_uniform_within_one_over_sqrt_hidden():
    tg.manual_seed(0)
    layer = nn.LSTM(10, 25, num_layers=2, bidirectional=True)
    values = np.concatenate([p.numpy().ravel() for p in layer.parameters()])
    assert np.abs(values).max() <= 1 / np.sqrt(25) and values.std() > 0.1
    assert [n for n, _ in layer.named_parameters()] == [n for n, _ in torch.nn.LSTM(10, 25, 2,
                                                                                     bidirectional=True).named_parameters()]


def test_recurrent_layers_refuse_what_torch_refuses():
    for lib in (tg, torch):
        with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
            lib.nn.GRU(4, 6)(lib.ones(5, 3, 3))
        with pytest.raises(RuntimeError, match="Expected hidden size"):
            lib.nn.RNN(4, 6)(lib.ones(5, 3, 4), lib.ones(2, 3, 6))
        with pytest.raises(ValueError, match="dropout should be a number in range"):
            lib.nn.LSTM(4, 6, dropout=1.5)
