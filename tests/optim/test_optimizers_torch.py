"""Every optimizer against torch.optim over hypothesis-drawn hyperparameters: 20-step float64
trajectories (1e-6), state_dict structure, loading into torch and back, argument errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_cnn as tg
from tinygrad_cnn import optim
from tinygrad_cnn.nn import Parameter

torch = pytest.importorskip("torch", reason="the oracle tests need PyTorch (the 'oracle' extra)")

pytestmark = pytest.mark.oracle

unit = st.floats(0.0, 0.99)
small = st.floats(0.0, 0.2)
lr = st.floats(1e-3, 0.1)
betas = st.tuples(st.floats(0.0, 0.95), st.floats(0.5, 0.999))
common = dict(weight_decay=small, maximize=st.booleans())
SPACES = {
    "SGD": dict(lr=lr, momentum=unit, dampening=st.floats(0, 0.5), **common),
    "Adam": dict(lr=lr, betas=betas, eps=st.floats(1e-8, 1e-3), amsgrad=st.booleans(),
                 decoupled_weight_decay=st.booleans(), **common),
    "AdamW": dict(lr=lr, betas=betas, amsgrad=st.booleans(), **common),
    "Adadelta": dict(lr=st.floats(0.1, 2.0), rho=unit, eps=st.floats(1e-6, 1e-3), **common),
    "Adagrad": dict(lr=lr, lr_decay=small, initial_accumulator_value=small, eps=st.floats(1e-10, 1e-3), **common),
    "RMSprop": dict(lr=st.floats(1e-3, 0.02), alpha=st.floats(0.5, 0.99), momentum=st.floats(0, 0.9),
                    centered=st.booleans(), eps=st.floats(1e-8, 1e-3), **common),
    "Adamax": dict(lr=lr, betas=betas, eps=st.floats(1e-8, 1e-3), **common),
    "NAdam": dict(lr=lr, betas=betas, momentum_decay=st.floats(0.0, 0.01), decoupled_weight_decay=st.booleans(),
                  **common),
    "RAdam": dict(lr=lr, betas=st.tuples(st.floats(0.0, 0.95), st.floats(0.5, 0.99)),
                  decoupled_weight_decay=st.booleans(), **common),
}


def _grads(w, b, x, t, sign):
    """Gradients (in NumPy, the same for both libraries) of sign * the non-convex objective
    sum((tanh(x @ w + b) - t)**2) + 0.1 * sum(w**4)."""
    h = np.tanh(x @ w + b)
    dz = 2 * (h - t) * (1 - h * h)
    return sign * (x.T @ dz + 0.4 * w ** 3), sign * dz.sum(0)


def _run(name, kwargs, steps=20):
    rng = np.random.default_rng(0)
    w0, b0, x, t = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    sign = -1.0 if kwargs.get("maximize") else 1.0  # maximize the negated objective: the same descent
    ours = [Parameter(w0.copy()), Parameter(b0.copy())]
    theirs = [torch.tensor(w0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt = getattr(optim, name)([{"params": ours[:1]}, {"params": ours[1:], "lr": kwargs["lr"] / 2}], **kwargs)
    topt = getattr(torch.optim, name)([{"params": theirs[:1]}, {"params": theirs[1:], "lr": kwargs["lr"] / 2}],
                                      **kwargs)
    mine, reference = [], []
    for step in range(steps):
        for p, g in zip(ours, _grads(ours[0].numpy(), ours[1].numpy(), x, t, sign)):
            p.grad = tg.Tensor(g)
        opt.step()
        for q, g in zip(theirs, _grads(theirs[0].detach().numpy(), theirs[1].detach().numpy(), x, t, sign)):
            q.grad = torch.from_numpy(g)
        topt.step()
        mine.append(np.concatenate([p.numpy().ravel() for p in ours]))
        reference.append(np.concatenate([q.detach().numpy().ravel() for q in theirs]))
    np.testing.assert_allclose(np.array(mine), np.array(reference), rtol=1e-6, atol=1e-9,
                               err_msg=f"{name}({kwargs}): trajectories differ (rows are steps)")
    return ours, theirs, opt, topt


def _same_state_dict(mine, theirs):
    assert mine["param_groups"] == theirs["param_groups"]
    assert mine["state"].keys() == theirs["state"].keys()
    for index, buffers in theirs["state"].items():
        assert mine["state"][index].keys() == buffers.keys()
        for key, value in buffers.items():
            got = mine["state"][index][key]
            assert isinstance(got, tg.Tensor), (key, got)
            if value.ndim or key == "step":  # torch's load casts other scalars (NAdam's mu_product) to the param's dtype
                assert got.dtype == value.numpy().dtype, (key, got, value)
            np.testing.assert_allclose(got.numpy(), value.numpy(), rtol=1e-6, atol=1e-12, err_msg=key)


@pytest.mark.parametrize("name", list(SPACES))
def test_optimizer_follows_torch(name):
    @settings(max_examples=10)
    @given(st.fixed_dictionaries(SPACES[name]))
    def check(kwargs):
        if name == "SGD" and kwargs["dampening"] and kwargs.get("nesterov"):
            return
        _, _, opt, topt = _run(name, kwargs)
        _same_state_dict(opt.state_dict(), topt.state_dict())

    check()


def _to_torch(state_dict):
    """Our state_dict with its Tensors as torch tensors (what saving and torch.load do)."""
    return {"state": {i: {k: torch.from_numpy(v.numpy().copy()) for k, v in s.items()}
                      for i, s in state_dict["state"].items()},
            "param_groups": state_dict["param_groups"]}


@pytest.mark.parametrize("name", list(SPACES))
def test_state_dict_loads_into_torch_and_back(name):
    kwargs = dict(lr=0.01, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    ours, theirs, opt, topt = _run(name, kwargs, steps=3)
    # our state into a fresh torch optimizer: both then take the same steps
    fresh = [q.detach().clone().requires_grad_(True) for q in theirs]
    resumed = getattr(torch.optim, name)([{"params": fresh[:1]}, {"params": fresh[1:], "lr": 0.005}], **kwargs)
    resumed.load_state_dict(_to_torch(opt.state_dict()))
    _same_state_dict(opt.state_dict(), resumed.state_dict())
    # and torch's state into a fresh optimizer of ours
    back = getattr(optim, name)([{"params": [Parameter(p.numpy().copy())]} for p in ours], **kwargs)
    back.load_state_dict(topt.state_dict())
    _same_state_dict(back.state_dict(), topt.state_dict())


def test_saved_state_dict_round_trips_through_torch_load(tmp_path):
    if not hasattr(tg, "save"):
        pytest.skip("tinygrad_cnn.save is not available")
    _, theirs, opt, _ = _run("Adam", dict(lr=0.01, amsgrad=True), steps=3)
    tg.save(opt.state_dict(), tmp_path / "opt.pt")
    loaded = torch.load(tmp_path / "opt.pt")
    topt = torch.optim.Adam([{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.005}], lr=0.01, amsgrad=True)
    topt.load_state_dict(loaded)
    _same_state_dict(opt.state_dict(), topt.state_dict())
    torch.save(topt.state_dict(), tmp_path / "back.pt")
    again = optim.Adam([{"params": [Parameter(np.zeros((4, 3)))]}, {"params": [Parameter(np.zeros(3))]}], lr=1.0)
    again.load_state_dict(tg.load(tmp_path / "back.pt"))
    _same_state_dict(again.state_dict(), topt.state_dict())


@pytest.mark.parametrize("name, kwargs", [
    (name, {key: -1.0}) for name, keys in {
        "SGD": ["lr", "momentum", "weight_decay"], "Adam": ["lr", "eps", "weight_decay"],
        "AdamW": ["lr", "eps"], "Adadelta": ["lr", "rho", "eps", "weight_decay"],
        "Adagrad": ["lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"],
        "RMSprop": ["lr", "eps", "momentum", "weight_decay", "alpha"], "Adamax": ["lr", "eps", "weight_decay"],
        "NAdam": ["lr", "eps", "weight_decay", "momentum_decay"], "RAdam": ["lr", "eps", "weight_decay"],
    }.items() for key in keys
] + [("Adam", {"betas": (1.0, 0.9)}), ("NAdam", {"betas": (0.9, -0.1)}), ("Adadelta", {"rho": 1.5}),
     ("SGD", {"nesterov": True, "lr": 0.1})])
def test_invalid_hyperparameters_raise_torchs_error(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(1, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as mine:
        getattr(optim, name)([Parameter(np.zeros(1))], **kwargs)
    assert str(mine.value) == str(theirs.value)
