"""LBFGS against torch.optim.LBFGS on the Rosenbrock function and a small least-squares model:
the same iterates, losses, evaluation and iteration counts, over history sizes, learning rates
and stopping rules; its refusals (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg

torch = pytest.importorskip("torch", reason="the oracle tests compare with PyTorch (pip install .[oracle])")

pytestmark = pytest.mark.oracle

START = np.array([-1.5, 2.0, 0.5, -0.7])


def _rosenbrock_run(lib, options: dict, steps: int):
    x = lib.tensor(START.copy(), requires_grad=True)
    optimizer = lib.optim.LBFGS([x], **options)

    def closure():
        optimizer.zero_grad()
        a, b = x[:-1], x[1:]
        loss = ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum()
        loss.backward()
        return loss

    losses = [float(optimizer.step(closure).detach()) for _ in range(steps)]
    state = optimizer.state[x]
    return x.detach().numpy().copy(), losses, state["func_evals"], state["n_iter"]


@pytest.mark.parametrize("options", [dict(), dict(lr=0.5, max_iter=7, history_size=3),
                                     dict(max_iter=50, tolerance_change=1e-12), dict(max_iter=4, max_eval=3)])
def test_lbfgs_follows_torchs_iterates(options):
    ours, theirs = _rosenbrock_run(tg, options, 5), _rosenbrock_run(torch, options, 5)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-9, atol=1e-12)
    assert ours[2:] == theirs[2:]


def test_lbfgs_fits_a_linear_model_as_torchs():
    rng = np.random.default_rng(0)
    features, targets = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    results = []
    for lib in (tg, torch):
        lib.manual_seed(0)
        model = lib.nn.Linear(3, 1).double()
        model.load_state_dict({"weight": lib.tensor(np.full((1, 3), 0.1)), "bias": lib.tensor(np.zeros(1))})
        optimizer = lib.optim.LBFGS(model.parameters(), history_size=5, max_iter=10)
        x, y = lib.tensor(features), lib.tensor(targets)

        def closure():
            optimizer.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            return loss

        for _ in range(8):
            optimizer.step(closure)
        results.append(np.concatenate([p.detach().numpy().ravel() for p in model.parameters()]))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-8, atol=1e-12)
    least_squares = np.linalg.lstsq(np.hstack([features, np.ones((40, 1))]), targets, rcond=None)[0].ravel()
    np.testing.assert_allclose(results[0], least_squares, atol=1e-4)  # near the optimum (the loss stopped changing)


def test_lbfgs_refusals():
    x = tg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="per-parameter options"):
        tg.optim.LBFGS([{"params": [x]}, {"params": [tg.zeros(2, requires_grad=True)]}])
    with pytest.raises(NotImplementedError, match="line_search_fn"):
        tg.optim.LBFGS([x], line_search_fn="strong_wolfe")
    with pytest.raises(RuntimeError, match="closure"):
        tg.optim.LBFGS([x]).step()
