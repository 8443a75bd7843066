"""ops.parallel (the thread pool and the thread count) and the split paths of conv2d and the
pools: results are bit-identical whatever the thread count, blocking matches one unblocked
pass, odd batch sizes work, and the no_grad paths give the same values."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_cnn.nn.functional as F
from tinygrad_cnn import Tensor, no_grad
from tinygrad_cnn.ops import conv, gemm_blocks, parallel, pool


@pytest.fixture
def threads():
    """Set the thread count for one test and restore it afterwards."""
    before = parallel.get_num_threads()
    yield parallel.set_num_threads
    parallel.set_num_threads(before)


def chwn(a: np.ndarray) -> np.ndarray:
    """NCHW values in the batch-innermost memory that conv2d produces."""
    return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def test_run_returns_results_in_order_on_every_thread_count(threads):
    for n in (1, 2, 3):
        threads(n)
        assert parallel.run([lambda k=k: k * k for k in range(7)]) == [k * k for k in range(7)]
        assert parallel.run([]) == []


def test_run_uses_the_other_threads(threads):
    threads(2)
    seen = set()
    barrier = threading.Barrier(2, timeout=10)

    def task():
        seen.add(threading.get_ident())
        barrier.wait()  # both tasks must run at once: a serial run would time out here

    parallel.run([task, task])
    assert len(seen) == 2


def test_run_raises_the_first_tasks_exception_after_all_finish(threads):
    threads(2)
    done = []

    def fail(message):
        raise ValueError(message)

    with pytest.raises(ValueError, match="first"):
        parallel.run([lambda: done.append(0), lambda: fail("first"), lambda: fail("second"),
                      lambda: done.append(3)])
    assert sorted(done) == [0, 3]
    assert parallel.run([lambda: 1, lambda: 2]) == [1, 2]  # the pool still works


def test_nested_runs_go_serially(threads):
    threads(2)
    inner = lambda: parallel.run([lambda: 1, lambda: 2])  # noqa: E731
    assert parallel.run([inner, inner, inner]) == [[1, 2]] * 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_rejects_bad_counts(bad, threads):
    before = parallel.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads"):
        parallel.set_num_threads(bad)
    assert parallel.get_num_threads() == before


def test_set_num_threads_sets_the_count_and_limits_blas(threads):
    threadpoolctl = pytest.importorskip("threadpoolctl")
    threads(3)
    assert parallel.get_num_threads() == 3
    assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info())
    # a pool that another thread count reached since (a BLAS loaded after the first op: torch's)
    threadpoolctl.threadpool_limits(limits=2)
    threads(2)
    assert all(pool["num_threads"] == 1 for pool in threadpoolctl.threadpool_info())


def test_split_covers_the_range_in_order():
    assert parallel.split(10, 3) == [slice(0, 3), slice(3, 6), slice(6, 10)]
    assert parallel.split(2, 4) == [slice(0, 1), slice(1, 2)]
    assert parallel.split(5, 1) == [slice(0, 5)]


def conv_results(x, w, b, upstream, **params):
    """conv2d's output and its gradients (input, weight, bias) as arrays."""
    xt, wt, bt = (Tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, **params)
    out.backward(Tensor(upstream))
    return [out.numpy().copy()] + [np.asarray(t.grad).copy() for t in (xt, wt, bt)]


def conv_case(batch, channels, size, out_channels, kernel, groups=1, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    x = chwn(rng.standard_normal((batch, channels, size, size)).astype(dtype))
    w = (0.2 * rng.standard_normal((out_channels, channels // groups, kernel, kernel))).astype(dtype)
    b = rng.standard_normal(out_channels).astype(dtype)
    return x, w, b


# LeNet's and SimpleCNN's second convs (several blocks and parts at batch 64 and above), a
# first layer (one input channel: small-patch column blocks) and a strided grouped conv
CONVS = [((6, 12, 16, 5), {}), ((8, 14, 16, 3), {"padding": 1}), ((1, 28, 6, 5), {}),
         ((4, 9, 6, 3), {"padding": 1, "stride": 2, "groups": 2})]


@pytest.mark.parametrize("batch", [1, 3, 64, 100])
@pytest.mark.parametrize("shape,params", CONVS)
def test_conv2d_is_bit_identical_on_one_and_two_threads(batch, shape, params, threads):
    channels, size, out_channels, kernel = shape
    x, w, b = conv_case(batch, channels, size, out_channels, kernel, params.get("groups", 1))
    oh = (size + 2 * params.get("padding", 0) - kernel) // params.get("stride", 1) + 1
    upstream = chwn(np.random.default_rng(1).standard_normal((batch, out_channels, oh, oh)).astype(np.float32))
    results = []
    for n in (1, 2):
        threads(n)
        results.append(conv_results(x, w, b, upstream, **params))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@given(batch=st.integers(1, 9), channels=st.integers(1, 4), out_channels=st.integers(1, 5),
       kernel=st.integers(1, 3), size=st.integers(3, 9), stride=st.integers(1, 2), padding=st.integers(0, 1))
def test_conv2d_in_many_small_blocks_matches_one_block(batch, channels, out_channels, kernel, size, stride,
                                                       padding):
    x, w, b = conv_case(batch, channels, size, out_channels, kernel, dtype=np.float64)
    oh = (size + 2 * padding - kernel) // stride + 1
    upstream = np.random.default_rng(2).standard_normal((batch, out_channels, oh, oh))
    params = dict(stride=stride, padding=padding)
    saved = conv.BLOCK_BYTES, conv.PARALLEL_COLUMNS
    try:
        conv.BLOCK_BYTES, conv.PARALLEL_COLUMNS = 1 << 40, 1 << 40  # one block, one part
        whole = conv_results(x, w, b, upstream, **params)
        conv.BLOCK_BYTES, conv.PARALLEL_COLUMNS = 1, 1  # a block per output row, channels in two parts
        blocked = conv_results(x, w, b, upstream, **params)
    finally:
        conv.BLOCK_BYTES, conv.PARALLEL_COLUMNS = saved
    for a, c in zip(whole, blocked):
        np.testing.assert_allclose(c, a, rtol=1e-12, atol=1e-12)


# LeNet's second conv and ResNet20's 16- and 32-channel 3x3 convs: the forward and
# input-gradient matmuls of each run in several blocks of columns for the small-matrix kernel
SMALL_GEMM_CONVS = [(6, 12, 16, 5, 0), (16, 28, 16, 3, 1), (32, 14, 32, 3, 1)]


@pytest.mark.parametrize("channels,size,out_channels,kernel,padding", SMALL_GEMM_CONVS)
def test_conv2d_matmuls_in_small_gemm_blocks_give_the_bits_of_one_call(channels, size, out_channels, kernel,
                                                                      padding, monkeypatch):
    x, w, b = conv_case(64, channels, size, out_channels, kernel)
    oh = size + 2 * padding - kernel + 1
    upstream = chwn(np.random.default_rng(1).standard_normal((64, out_channels, oh, oh)).astype(np.float32))
    blocked = []
    real = gemm_blocks.small_gemm_step

    def spy(rows, inner, length, dtype):
        step = real(rows, inner, length, dtype)
        blocked.append(inner if step else None)
        return step

    monkeypatch.setattr(gemm_blocks, "small_gemm_step", spy)
    blocks = conv_results(x, w, b, upstream, padding=padding)
    assert {kernel * kernel * channels, out_channels} <= set(blocked)  # forward's and input gradient's were cut
    monkeypatch.setattr(gemm_blocks, "small_gemm_step", lambda *args: None)
    for one, whole in zip(blocks, conv_results(x, w, b, upstream, padding=padding)):
        np.testing.assert_array_equal(one, whole)


@pytest.mark.parametrize("batch, on_workers", [(1, False), (4, False), (64, True)])
def test_conv2d_backward_hands_only_large_layers_to_the_workers(batch, on_workers, threads, monkeypatch):
    threads(2)
    x, w, b = conv_case(batch, 6, 12, 16, 5)  # LeNet's conv2: 2,400 multiply-adds per output column
    assert (6 * 5 * 5 * 16 * 8 * 8 * batch >= conv.PARALLEL_BACKWARD) == on_workers
    handed = []
    monkeypatch.setattr(parallel, "run", lambda tasks: handed.append(len(tasks)) or [task() for task in tasks])
    out = F.conv2d(Tensor(x, requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True))
    handed.clear()  # what forward ran
    out.backward(Tensor(np.ones(out.shape, dtype=np.float32)))
    assert handed == ([2] if on_workers else [])  # the scatter and the weight products, or neither


@pytest.mark.parametrize("batch", [1, 3, 64])
def test_conv2d_under_no_grad_keeps_no_columns_and_gives_the_same_output(batch):
    x, w, b = conv_case(batch, 6, 12, 16, 5)
    with_graph = F.conv2d(Tensor(x), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True))
    assert with_graph.grad_fn.saved_tensors[0] is not None  # kept for the weight gradient
    with no_grad():
        without = F.conv2d(Tensor(x), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True))
    assert without.grad_fn is None
    np.testing.assert_array_equal(without.numpy(), with_graph.numpy())


POOLS = [("max", 2, 2, 0), ("max", 3, 2, 1), ("avg", 2, 2, 0), ("avg", 3, 1, 1)]


def pool_results(kind, x, upstream, kernel, stride, padding):
    xt = Tensor(x, requires_grad=True)
    fn = F.max_pool2d if kind == "max" else F.avg_pool2d
    out = fn(xt, kernel, stride, padding)
    out.backward(Tensor(upstream))
    return out.numpy().copy(), np.asarray(xt.grad).copy()


@pytest.mark.parametrize("batch", [1, 3, 64, 256])
@pytest.mark.parametrize("layout", ["nchw", "chwn"])
@pytest.mark.parametrize("kind,kernel,stride,padding", POOLS)
def test_pools_are_bit_identical_on_one_and_two_threads(batch, layout, kind, kernel, stride, padding, threads,
                                                       monkeypatch):
    monkeypatch.setattr(pool, "PARALLEL_WINDOWS", 1 << 12)  # split from batch 64 on, whatever the tuning
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((batch, 6, 12, 12)), 0).astype(np.float32)  # ties, as after ReLU
    x = chwn(x) if layout == "chwn" else x
    oh = (12 + 2 * padding - kernel) // stride + 1
    upstream = rng.standard_normal((batch, 6, oh, oh)).astype(np.float32)
    results = []
    for n in (1, 2):
        threads(n)
        results.append(pool_results(kind, x, upstream, kernel, stride, padding))
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


@pytest.mark.parametrize("batch", [1, 64])
def test_max_pool2d_under_no_grad_gives_the_same_maxima(batch):
    x = chwn(np.random.default_rng(4).standard_normal((batch, 6, 24, 24)).astype(np.float32))
    with_graph = F.max_pool2d(Tensor(x, requires_grad=True), 2)
    with no_grad():
        without = F.max_pool2d(Tensor(x, requires_grad=True), 2)
    np.testing.assert_array_equal(without.numpy(), with_graph.numpy())


def test_run_keeps_nothing_of_its_tasks_once_it_returns(threads):
    import weakref

    threads(2)

    class Payload:
        pass

    payload = Payload()
    alive = weakref.ref(payload)
    parallel.run([lambda p=payload: p, lambda p=payload: None] * 3)
    del payload
    assert alive() is None  # a worker holding the job kept every conv2d's columns into the next call


def test_default_thread_count_leaves_other_processes_their_cores(monkeypatch):
    monkeypatch.setattr(parallel, "_num_threads", None)
    monkeypatch.setattr(parallel, "_default_threads", lambda: 2)
    monkeypatch.setattr(parallel._load, "free_cores", lambda: 0.4)  # others keep 1.6 of 2 cores busy
    assert parallel._threads_now() == 1 and parallel.get_num_threads() == 2
    monkeypatch.setattr(parallel._load, "free_cores", lambda: 1.8)
    assert parallel._threads_now() == 2
    monkeypatch.setattr(parallel._load, "free_cores", lambda: float("inf"))  # not measured yet
    assert parallel._threads_now() == 2
    monkeypatch.setattr(parallel, "_num_threads", 2)  # a count set explicitly is kept whatever the load
    monkeypatch.setattr(parallel._load, "free_cores", lambda: 0.4)
    assert parallel._threads_now() == 2


def test_load_counts_only_the_other_processes(monkeypatch):
    # (wall s, machine busy jiffies, machine total jiffies, own CPU s): over one second the
    # 2 cores were 3/4 busy (1.5 cores), half a core of it ours: the others kept 1 core busy
    samples = iter([(0.0, 0, 0, 0.0), (1.0, 150, 200, 0.5)])
    monkeypatch.setattr(parallel._Load, "sample", staticmethod(lambda: next(samples)))
    monkeypatch.setattr(parallel, "LOAD_INTERVAL", 0.0)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 2)
    load = parallel._Load()
    assert load.free_cores() == float("inf")  # one look: nothing measured yet
    assert load.free_cores() == pytest.approx(1.0)



LAYOUTS = {  # (64, 16, 28, 28): 802,816 elements, above parallel.ELEMENTWISE_PARALLEL
    "nchw": lambda rng: rng.standard_normal((64, 16, 28, 28)).astype(np.float32),
    "chwn": lambda rng: chwn(rng.standard_normal((64, 16, 28, 28)).astype(np.float32)),
    # conv2d's input gradient with padding 1: a view with gaps
    "cropped chwn": lambda rng: chwn(rng.standard_normal((64, 16, 30, 30)).astype(np.float32))[:, :, 1:-1, 1:-1],
}


@pytest.mark.parametrize("grad_layout", LAYOUTS)
@pytest.mark.parametrize("input_layout", LAYOUTS)
def test_relu_passes_in_halves_equal_one_pass_in_any_layout(grad_layout, input_layout, threads):
    from tinygrad_cnn.ops.activation import relu_backward, relu_into

    rng = np.random.default_rng(4)
    a, grad = LAYOUTS[input_layout](rng), LAYOUTS[grad_layout](rng)
    assert a.size >= parallel.ELEMENTWISE_PARALLEL
    for n in (1, 2):
        threads(n)
        out = relu_into(a, np.empty_like(a))
        np.testing.assert_array_equal(out, np.maximum(a, 0))
        np.testing.assert_array_equal(relu_backward(grad, out), grad * (out > 0))


@pytest.mark.parametrize("first_op", ["x @ x", "torch.nn.functional.linear(x, x)", "torch.einsum('ij,jk->ik', x, x)"])
def test_the_first_matrix_product_limits_blas_to_one_thread(first_op):
    """A program of matrix products alone (an MLP, no conv) never calls ``run``: its first
    product limits BLAS, whose idle threads would otherwise spin against busy processes."""
    pytest.importorskip("threadpoolctl")
    probe = ("import threadpoolctl, tinygrad_cnn as torch; x = torch.ones(4, 4); "
             f"before = max(p['num_threads'] for p in threadpoolctl.threadpool_info()); {first_op}; "
             "print(before, max(p['num_threads'] for p in threadpoolctl.threadpool_info()))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env={k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")})
    assert out.returncode == 0, out.stderr
    before, after = map(int, out.stdout.split())
    assert after == 1 and (before > 1 or (os.cpu_count() or 1) == 1)  # it was the product that limited it
