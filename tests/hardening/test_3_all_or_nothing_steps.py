"""Class 3 of issue 16: all-or-nothing steps. A step validates every gradient, buffer and
hyper-parameter before changing anything; bad hyper-parameters are ValueErrors naming them,
as torch's; a stale preset .grad raises before backward accumulates anything."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_cnn import optim
from tinygrad_cnn.optim.optimizer import check_group_hyperparameters
from tinygrad_cnn.tensor import Tensor

BAD = [float("nan"), float("inf"), -float("inf"), -0.5]
OPTIMIZERS = {
    "SGD": lambda ps, **kw: optim.SGD(ps, **{"lr": 0.1, "momentum": 0.9, **kw}),
    "Adam": lambda ps, **kw: optim.Adam(ps, **{"lr": 0.1, **kw}),
    "AdamW": lambda ps, **kw: optim.AdamW(ps, **{"lr": 0.1, **kw}),
}
HYPER = {"SGD": ["lr", "momentum", "dampening", "weight_decay"], "Adam": ["lr", "eps", "weight_decay"],
         "AdamW": ["lr", "eps", "weight_decay"]}


def params(n=3):
    out = []
    for i in range(n):
        p = Tensor(np.full((2, 2), float(i + 1), dtype=np.float32), requires_grad=True)
        p.grad = Tensor(np.ones((2, 2), dtype=np.float32))
        out.append(p)
    return out


def snapshot(opt, ps):
    return ([p.numpy().tolist() for p in ps], repr(opt.state_dict()))


@pytest.mark.parametrize("opt_name,name", [(o, n) for o, names in HYPER.items() for n in names])
@pytest.mark.parametrize("value", BAD, ids=repr)
def test_bad_hyperparameter_is_a_value_error_naming_it_everywhere(opt_name, name, value):
    make = OPTIMIZERS[opt_name]
    with pytest.raises(ValueError, match=name if name != "lr" else "learning rate"):
        make(params(1), **{name: value})
    with pytest.raises(ValueError, match=r"param_groups\[1\]"):
        make(params(1)).add_param_group({"params": params(1), name: value})
    ps = params(2)
    opt = make(ps)
    before = snapshot(opt, ps)
    opt.param_groups[0][name] = value
    with pytest.raises(ValueError, match=r"param_groups\[0\]"):
        opt.step()
    opt.param_groups[0][name] = 0.0
    assert before[0] == [p.numpy().tolist() for p in ps]


@pytest.mark.parametrize("betas", [(0.9, 1.0), (-0.1, 0.9), (float("nan"), 0.9), (0.9, float("inf")), (0.9,)],
                         ids=repr)
def test_bad_betas_as_torch(betas):
    with pytest.raises(ValueError, match="beta"):
        optim.Adam(params(1), betas=betas)
    try:
        import torch
    except ImportError:
        return
    if len(betas) == 2:
        with pytest.raises(ValueError):
            torch.optim.Adam([torch.zeros(1, requires_grad=True)], betas=betas)


def test_torch_also_refuses_negative_lr_with_a_value_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError):
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=-0.5)


def test_non_number_hyperparameter_is_a_type_error():
    with pytest.raises(TypeError, match="lr"):
        check_group_hyperparameters("X", {"lr": "fast"})


@given(st.sampled_from(sorted(OPTIMIZERS)), st.integers(0, 2), st.sampled_from(["shape", "dtype", "buffer", "nan"]),
       st.booleans())
def test_a_bad_gradient_anywhere_changes_nothing(opt_name, bad_index, fault, warm):
    ps = params(3)
    opt = OPTIMIZERS[opt_name](ps)
    opt.check_finite = fault == "nan"
    if warm:
        opt.step()
    before = snapshot(opt, ps)
    bad = ps[bad_index]
    if fault == "shape":
        bad.grad.data = Tensor(np.ones((3,), dtype=np.float32))
    elif fault == "dtype":
        bad.grad.data = Tensor(np.ones((2, 2), dtype=np.float64))
    elif fault == "nan":
        bad.grad.numpy()[0, 0] = np.nan
    else:
        if not opt.state.get(bad):
            return
        key = next(k for k, v in opt.state[bad].items() if isinstance(v, np.ndarray) and v.ndim)
        opt.state[bad][key] = np.zeros(5, dtype=np.float32)
        before = snapshot(opt, ps)
    with pytest.raises((RuntimeError, FloatingPointError), match=f"parameter {bad_index} of group 0"):
        opt.step()
    assert snapshot(opt, ps) == before


def test_step_counter_not_advanced_by_a_failing_adam_step():
    ps = params(2)
    opt = optim.Adam(ps)
    opt.step()
    ps[1].grad.data = Tensor(np.ones(7, dtype=np.float32))
    with pytest.raises(RuntimeError):
        opt.step()
    assert [opt.state[p]["step"] for p in ps] == [1, 1]


def test_stale_preset_grad_raises_naming_the_tensor_before_any_accumulates():
    a, b = params(2)
    b.grad.data = Tensor(np.ones((2, 3), dtype=np.float32))
    a_before = a.grad.numpy().copy()
    with pytest.raises(RuntimeError, match=r"(?s)existing \.grad.*shape \(2, 3\)"):
        (a * b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), a_before)


@pytest.mark.parametrize("value,kind", [(np.ones(3), "shape"), (np.ones((2, 2), dtype=np.float64), "dtype")])
def test_preset_grad_of_wrong_shape_or_dtype_refused_as_torch(value, kind):
    p = params(1)[0]
    with pytest.raises(RuntimeError, match=kind):
        p.grad = Tensor(value)
    torch = pytest.importorskip("torch")
    q = torch.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError):
        q.grad = torch.from_numpy(value)


def test_backward_gradient_of_wrong_shape_raises_before_accumulating():
    p = params(1)[0]
    with pytest.raises(RuntimeError, match="shape"):
        (p * 2).backward(Tensor(np.ones((4,), dtype=np.float32)))
    np.testing.assert_array_equal(p.grad.numpy(), 1.0)
