"""torch.set_printoptions / get_printoptions: the options (and the profiles) as torch keeps them,
and Tensor's repr honouring them: precision, summarizing past threshold with edgeitems, line
width, and sci_mode's forced notations, whose values print as torch's (skipped without torch)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle


@pytest.fixture(autouse=True)
def default_options():
    """Each test starts and ends with both libraries' default print options."""
    for lib in (tg, torch):
        lib.set_printoptions(profile="default")
    yield
    for lib in (tg, torch):
        lib.set_printoptions(profile="default")


def torch_options() -> dict:
    return torch._tensor_str.get_printoptions()


def numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d*)?(?:e[+-]\d+)?", text.split("shape=")[0])


def test_defaults_are_torchs_and_the_repr_keeps_its_format():
    assert tg.get_printoptions() == torch_options() == {"precision": 4, "threshold": 1000, "edgeitems": 3,
                                                        "linewidth": 80, "sci_mode": None}
    assert repr(tg.tensor([1.0, 2.5])) == "tensor([1. , 2.5], shape=(2,))"
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2], shape=(2,), dtype=int64)"
    assert repr(tg.tensor([0.123456789])) == "tensor([0.1235], shape=(1,))"


@pytest.mark.parametrize("calls", [
    [{"precision": 2}, {"threshold": 5}, {"edgeitems": 1, "linewidth": 120}],
    [{"profile": "short"}, {"precision": 6}, {"profile": "full"}],
    [{"sci_mode": True}, {"precision": 3}, {"sci_mode": False, "profile": "short"}, {"profile": "default"}],
])
def test_the_options_change_as_torchs_do(calls):
    for kwargs in calls:  # sci_mode returns to None on every call that does not give it, as torch's
        tg.set_printoptions(**kwargs)
        torch.set_printoptions(**kwargs)
        assert tg.get_printoptions() == torch_options(), kwargs


@pytest.mark.parametrize("kwargs", [{"threshold": 5}, {"threshold": 5, "edgeitems": 1}, {"profile": "short"},
                                    {"threshold": 20, "edgeitems": 2}, {"profile": "full"}])
def test_summarizing_shows_the_elements_torch_shows(kwargs):
    data = np.arange(2400).reshape(40, 60)
    for shape in ((10,), (40, 60), (4, 6, 100)):
        tg.set_printoptions(**kwargs)
        torch.set_printoptions(**kwargs)
        ours, theirs = repr(tg.tensor(data.reshape(-1)[:np.prod(shape)].reshape(shape))), repr(
            torch.tensor(data.reshape(-1)[:np.prod(shape)].reshape(shape)))
        assert numbers(ours) == numbers(theirs) and ("..." in ours) == ("..." in theirs), (kwargs, shape)


def test_precision_and_linewidth_shape_the_repr():
    tg.set_printoptions(precision=2)
    assert numbers(repr(tg.tensor([1.12345, -3.98765]))) == ["1.12", "-3.99"]
    tg.set_printoptions(precision=6)
    assert numbers(repr(tg.tensor([1.12345678]))) == ["1.123457"]
    for width in (40, 80, 150):
        tg.set_printoptions(profile="default", linewidth=width)
        lines = repr(tg.arange(300.0)).split("\n")
        assert len(lines) > 1 and all(len(line) <= width for line in lines[:-1])
        assert len(max(lines[:-1], key=len)) > width - 8  # the lines are filled up to the width


@pytest.mark.parametrize("sci_mode", [True, False])
@pytest.mark.parametrize("precision", [2, 4])
def test_forced_notations_print_values_as_torch(sci_mode, precision):
    values = [[1.5, -2e-9, 3.0], [1e9, float("nan"), -float("inf")], [0.0, 123.456, -7.25]]
    tg.set_printoptions(sci_mode=sci_mode, precision=precision)
    torch.set_printoptions(sci_mode=sci_mode, precision=precision)
    for data in (values, values[2], [[0.5]]):
        ours = repr(tg.tensor(data))
        assert ours.rsplit(", shape=", 1)[0] + ")" == repr(torch.tensor(data)), ours
    assert repr(tg.tensor([1, 2])) == "tensor([1, 2], shape=(2,), dtype=int64)"  # integers are not affected


def test_an_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile"):
        tg.set_printoptions(profile="long")
    assert tg.get_printoptions() == torch_options()
