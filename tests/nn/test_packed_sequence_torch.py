"""torch.nn.utils.rnn against PyTorch: pad_sequence, pack_padded_sequence, pad_packed_sequence,
pack_sequence, unpack_sequence, unpad_sequence, invert_permutation and PackedSequence's fields
(values, dtypes, gradients), and RNN/LSTM/GRU over PackedSequences from the same weights:
packed outputs, final states (each sequence's last valid step) and the gradients of the input,
the initial state and every parameter (float64), enforce_sorted and batch_first both ways;
errors; ``torch.nn.utils.rnn`` under ``compat.install()`` (skipped without torch)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinygrad_cnn as tg
import tinygrad_cnn.nn.utils.rnn as ours_rnn

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")
theirs_rnn = torch.nn.utils.rnn

pytestmark = pytest.mark.oracle

RNG = np.random.default_rng(0)
TOL = dict(rtol=1e-10, atol=1e-12)


def _same(out, ref) -> None:
    """Equal values and dtype (None matches None)."""
    assert (out is None) == (ref is None)
    if ref is not None:
        np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), **TOL)
        assert str(out.dtype) == str(ref.dtype).replace("torch.", "")


def _same_packed(out, ref) -> None:
    assert type(out).__name__ == "PackedSequence" and out._fields == ref._fields
    for a, b in zip(out, ref):
        _same(a, b)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch_with_gradients(batch_first, padding_side):
    shapes = [(3, 2), (5, 2), (1, 2)]
    arrays = [RNG.normal(size=s) for s in shapes]
    mine = [tg.tensor(a, requires_grad=True) for a in arrays]
    refs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours_rnn.pad_sequence(mine, batch_first, -1.5, padding_side)
    ref = theirs_rnn.pad_sequence(refs, batch_first, -1.5, padding_side)
    _same(out, ref)
    weights = RNG.normal(size=tuple(ref.shape))
    (out * tg.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for a, b in zip(mine, refs):
        _same(a.grad, b.grad)
    ints = [[1, 2], [3, 4, 5]]  # the first sequence's dtype; the padding value cast to it
    _same(ours_rnn.pad_sequence([tg.tensor(i) for i in ints], padding_value=2.7),
          theirs_rnn.pad_sequence([torch.tensor(i) for i in ints], padding_value=2.7))


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_and_pad_packed_match_torch_with_gradients(batch_first, enforce_sorted):
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = RNG.normal(size=(4, 5, 2) if batch_first else (5, 4, 2))
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    for given in (lengths, tg.tensor(lengths)):  # a list, then an int64 tensor
        packed = ours_rnn.pack_padded_sequence(a, given, batch_first, enforce_sorted)
        expected = theirs_rnn.pack_padded_sequence(b, lengths, batch_first, enforce_sorted)
        _same_packed(packed, expected)
    for total in (None, 7):
        out, out_lengths = ours_rnn.pad_packed_sequence(packed, batch_first, 0.5, total)
        ref, ref_lengths = theirs_rnn.pad_packed_sequence(expected, batch_first, 0.5, total)
        _same(out, ref)
        _same(out_lengths, ref_lengths)
    weights = RNG.normal(size=tuple(ref.shape))
    (out * tg.tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    _same(a.grad, b.grad)


def test_pack_sequence_unpack_and_helpers_match_torch():
    for sequences, sort in (([[1, 2, 3], [4, 5], [6]], True), ([[1.5], [2.5, 3.5, 4.5], [5.5, 6.5]], False)):
        packed = ours_rnn.pack_sequence([tg.tensor(s) for s in sequences], enforce_sorted=sort)
        expected = theirs_rnn.pack_sequence([torch.tensor(s) for s in sequences], enforce_sorted=sort)
        _same_packed(packed, expected)
        for out, ref in zip(ours_rnn.unpack_sequence(packed), theirs_rnn.unpack_sequence(expected)):
            _same(out, ref)
        assert repr(packed).startswith("PackedSequence(data=tensor(") and repr(packed).endswith(")")
    order = [2, 0, 3, 1]
    _same(ours_rnn.invert_permutation(tg.tensor(order)), theirs_rnn.invert_permutation(torch.tensor(order)))
    assert ours_rnn.invert_permutation(None) is None
    padded, sizes = RNG.normal(size=(2, 4, 3)), [4, 2]
    for out, ref in zip(ours_rnn.unpad_sequence(tg.tensor(padded), tg.tensor(sizes), batch_first=True),
                        theirs_rnn.unpad_sequence(torch.tensor(padded), torch.tensor(sizes), batch_first=True)):
        _same(out, ref)
    rebuilt = ours_rnn.PackedSequence((packed.data, packed.batch_sizes), sorted_indices=packed.sorted_indices)
    _same_packed(rebuilt, theirs_rnn.PackedSequence((expected.data, expected.batch_sizes),
                                                    sorted_indices=expected.sorted_indices))
    as_double = packed.double()
    assert as_double.data.dtype == np.float64 and as_double.batch_sizes is packed.batch_sizes


def _twins(name: str, **kwargs):
    theirs = getattr(torch.nn, name)(3, 4, **kwargs).double()
    ours = getattr(tg.nn, name)(3, 4, **kwargs).double()
    ours.load_state_dict({k: tg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _flat(state) -> list:
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_recurrent_layers_over_packed_sequences_match_torch(name, batch_first, enforce_sorted):
    options = dict(num_layers=2, bidirectional=True) if name != "RNN" else dict(nonlinearity="relu")
    ours, theirs = _twins(name, batch_first=batch_first, **options)
    lengths = [5, 4, 2, 2, 1] if enforce_sorted else [2, 5, 1, 4, 2]
    x = RNG.normal(size=(5, 5, 3))  # (N, T) or (T, N) alike
    count = 4 if name != "RNN" else 1
    initial = [RNG.normal(size=(count, 5, 4)) for _ in range(2 if name == "LSTM" else 1)]
    a, b = tg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    h_a = [tg.tensor(h, requires_grad=True) for h in initial]
    h_b = [torch.tensor(h, requires_grad=True) for h in initial]
    state = (lambda hs: tuple(hs)) if name == "LSTM" else (lambda hs: hs[0])
    out, hidden = ours(ours_rnn.pack_padded_sequence(a, lengths, batch_first, enforce_sorted), state(h_a))
    ref, ref_hidden = theirs(theirs_rnn.pack_padded_sequence(b, lengths, batch_first, enforce_sorted), state(h_b))
    _same_packed(out, ref)
    for h, r in zip(_flat(hidden), _flat(ref_hidden)):
        _same(h, r)
    padded, _ = ours_rnn.pad_packed_sequence(out, batch_first)
    ref_padded, _ = theirs_rnn.pad_packed_sequence(ref, batch_first)
    weights = [RNG.normal(size=tuple(t.shape)) for t in [ref_padded] + _flat(ref_hidden)]
    sum((t * tg.tensor(w)).sum() for t, w in zip([padded] + _flat(hidden), weights)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip([ref_padded] + _flat(ref_hidden), weights)).backward()
    for p, q in zip([a] + h_a, [b] + h_b):
        _same(p.grad, q.grad)
    for (label, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), err_msg=label, **TOL)


def test_packed_input_without_initial_state_matches_torch():
    ours, theirs = _twins("GRU", bidirectional=True)
    sequences = [RNG.normal(size=(n, 3)) for n in (2, 4, 3)]
    out, hidden = ours(ours_rnn.pack_sequence([tg.tensor(s) for s in sequences], enforce_sorted=False))
    ref, ref_hidden = theirs(theirs_rnn.pack_sequence([torch.tensor(s) for s in sequences], enforce_sorted=False))
    _same_packed(out, ref)
    _same(hidden, ref_hidden)


def test_refuses_what_torch_refuses():
    x = np.zeros((4, 3, 2))
    for lib, rnn in ((tg, ours_rnn), (torch, theirs_rnn)):
        padded = lib.tensor(x)
        with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
            rnn.pack_padded_sequence(padded, [4, 2, 3])
        with pytest.raises(RuntimeError, match="Length of all samples has to be greater than 0"):
            rnn.pack_padded_sequence(padded, [4, 3, 0])
        with pytest.raises(RuntimeError, match=r"Expected `len\(lengths\)` to be equal to batch_size"):
            rnn.pack_padded_sequence(padded, [4, 3])
        with pytest.raises(RuntimeError, match="should be a 1D CPU int64 tensor"):
            rnn.pack_padded_sequence(padded, lib.tensor([[4, 2, 1]]))
        with pytest.raises(ValueError, match="Expected total_length to be at least"):
            rnn.pad_packed_sequence(rnn.pack_padded_sequence(padded, [4, 3, 1]), total_length=3)
        with pytest.raises(RuntimeError, match="received an empty list of sequences"):
            rnn.pad_sequence([])
        with pytest.raises(RuntimeError, match="Expected iterable for input sequences"):
            rnn.pad_sequence(3)
        with pytest.raises(RuntimeError, match="Expected padding_side to be one of left or right"):
            rnn.pad_sequence([lib.ones(2)], padding_side="up")
        with pytest.raises(RuntimeError):
            rnn.pad_sequence([lib.ones(2, 3), lib.ones(3, 2)])
        with pytest.raises(TypeError, match="expected Tensor as element 1"):
            rnn.pad_sequence([lib.ones(2), 3])
    with pytest.raises(RuntimeError, match="at most the padded length 4"):  # torch reads past the end here
        ours_rnn.pack_padded_sequence(tg.tensor(x), [5, 3, 2])


def test_torch_nn_utils_rnn_resolves_under_compat():
    program = ("import tinygrad_cnn.compat\ntinygrad_cnn.compat.install()\nimport torch\n"
               "from torch.nn.utils.rnn import pad_sequence, PackedSequence\n"
               "import tinygrad_cnn.nn.utils.rnn as home\n"
               "assert pad_sequence is home.pad_sequence and PackedSequence is home.PackedSequence\n"
               "assert torch.nn.utils.rnn.pack_sequence is home.pack_sequence\n"
               "assert torch.nn.utils.clip_grad_norm_ is tinygrad_cnn.nn.utils.clip_grad_norm_\n"
               "print(torch.nn.utils.rnn.pack_sequence([torch.tensor([1, 2]), torch.tensor([3])]).data.tolist())\n")
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[1, 3, 2]"
