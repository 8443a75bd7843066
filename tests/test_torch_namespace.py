"""``import tinygrad_cnn as torch``: dtypes, devices (GPU requests raise), the cuda/backends/
accelerator answers, grad-mode switches, threads, the lazy submodules and missing names."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygrad_cnn as torch

REPO = Path(__file__).resolve().parent.parent


def test_dtypes_are_numpy_dtypes_equal_to_a_tensors_dtype():
    assert torch.zeros(2).dtype == torch.float32 == torch.float
    assert torch.zeros(2, dtype=torch.double).dtype == torch.float64
    assert torch.tensor([1, 2]).dtype == torch.long == torch.int64
    assert torch.tensor([True]).dtype == torch.bool
    assert torch.ones(1, dtype=torch.half).dtype == np.float16 and torch.int == np.int32
    assert isinstance(torch.float32, torch.dtype) and torch.finfo(torch.float32).eps == np.finfo(np.float32).eps
    assert torch.zeros(1, dtype=float).dtype == np.float64  # Python's float is torch's float64
    assert torch.zeros(2).type(torch.long).dtype == np.int64 and torch.zeros(1).type() == "torch.FloatTensor"
    with pytest.raises(TypeError, match="dtype"):
        torch.zeros(2, dtype="no such dtype")


def test_default_dtype_can_be_float64_and_back():
    assert torch.get_default_dtype() == torch.float32
    try:
        torch.set_default_dtype(torch.float64)
        assert torch.tensor([1.5]).dtype == torch.float64 and torch.rand(2).dtype == torch.float64
        assert torch.arange(0.0, 1.0, 0.5).dtype == torch.float64
    finally:
        torch.set_default_dtype(torch.float32)
    assert torch.tensor([1.5]).dtype == torch.float32
    with pytest.raises(TypeError, match="float32 and torch.float64"):
        torch.set_default_dtype(torch.int64)


def test_devices_construct_compare_and_print_as_torch():
    cpu = torch.device("cpu")
    assert cpu == torch.device("cpu") and cpu.type == "cpu" and cpu.index is None
    assert repr(cpu) == "device(type='cpu')" and str(cpu) == "cpu"
    gpu = torch.device("cuda:0")  # constructs without a GPU, as torch's (programs build one before asking)
    assert (gpu.type, gpu.index, str(gpu), repr(gpu)) == ("cuda", 0, "cuda:0", "device(type='cuda', index=0)")
    assert torch.device("cuda").index is None and torch.device("mps", 0) == torch.device("mps:0") != cpu
    assert len({torch.device("cpu"), cpu}) == 1
    with pytest.raises(RuntimeError, match="device type"):
        torch.device("gpu")
    x = torch.ones(2)
    assert x.device == cpu and x.to("cpu") is x and x.cpu() is x and x.to(cpu, non_blocking=True) is x
    assert torch.zeros(1, device="cpu:0").device == cpu and torch.Generator(device="cpu").device == cpu


@pytest.mark.parametrize("where", ["cuda", "cuda:0", "mps", 0, "device"])
def test_asking_for_a_gpu_raises_saying_the_framework_computes_on_the_cpu(where):
    target = torch.device("cuda") if where == "device" else where
    x = torch.ones(2)
    for attempt in (lambda: x.to(target), lambda: torch.zeros(2, device=target), lambda: torch.randn(2, device=target),
                    lambda: x.new_ones(2, device=target), lambda: torch.tensor([1.0], device=target),
                    lambda: x.to(target, torch.float64)):
        with pytest.raises(RuntimeError, match="computes on the CPU"):
            attempt()
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        x.cuda()
    with pytest.raises(RuntimeError, match="computes on the CPU"):
        torch.set_default_device("cuda")
    torch.set_default_device("cpu")


def test_to_takes_each_of_torchs_forms():
    x = torch.tensor([1.5, 2.5], requires_grad=True)
    assert x.to(torch.float64).dtype == np.float64 and x.to("cpu", torch.float64).dtype == np.float64
    assert x.to(device="cpu", dtype=torch.int64).tolist() == [1, 2]
    assert x.to(torch.zeros(1, dtype=torch.float16)).dtype == np.float16
    assert x.to(torch.float32) is x and x.to(torch.float32, copy=True) is not x
    y = x.to(torch.float64)
    y.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [1.0, 1.0]
    with pytest.raises(TypeError, match="unexpected keyword"):
        x.to(dtype=torch.float64, colour="red")


def test_gpu_questions_answer_no():
    assert torch.cuda.is_available() is False and torch.cuda.device_count() == 0
    assert torch.backends.mps.is_available() is False and torch.backends.mps.is_built() is False
    assert torch.accelerator.is_available() is False
    torch.cuda.manual_seed_all(0)  # silently ignored, as torch does without CUDA
    with pytest.raises(RuntimeError, match="CPU only"):
        torch.cuda.synchronize()
    cudnn = torch.backends.cudnn
    old = cudnn.benchmark, cudnn.deterministic
    cudnn.benchmark, cudnn.deterministic = True, True
    assert torch.backends.cudnn.benchmark and torch.backends.cudnn.deterministic
    cudnn.benchmark, cudnn.deterministic = old


def test_grad_mode_switches():
    x = torch.ones(2, requires_grad=True)
    with torch.inference_mode():
        assert not (x * 2).requires_grad and torch.is_inference_mode_enabled()
    with torch.inference_mode(False):
        assert (x * 2).requires_grad and not torch.is_inference_mode_enabled()

    @torch.inference_mode()
    def f(t):
        return t * 2

    assert not f(x).requires_grad and (x * 2).requires_grad and torch.is_grad_enabled()
    with torch.no_grad(), torch.enable_grad():
        assert (x * 2).requires_grad


def test_num_threads_round_trip():
    before = torch.get_num_threads()
    assert isinstance(before, int) and before >= 1
    torch.set_num_threads(1)
    assert torch.get_num_threads() == 1
    torch.set_num_threads(before)
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="set_num_threads"):
        torch.set_num_threads(0)


def test_submodules_are_attributes_and_missing_names_say_so():
    assert torch.nn.functional.relu and torch.optim.SGD and torch.autograd.Function and torch.nn.Linear
    assert torch.utils.__name__ == "tinygrad_cnn.utils"
    with pytest.raises(AttributeError, match="module 'tinygrad_cnn' has no attribute 'fft': torch.fft is not "
                                             "supported by tinygrad_cnn"):
        torch.fft
    with pytest.raises(AttributeError, match="torch.quantization is not supported"):
        torch.quantization
    assert torch.is_tensor(torch.ones(1)) and not torch.is_tensor(np.ones(1))
    assert torch.Size([2, 3]) == (2, 3) and torch.numel(torch.ones(2, 3)) == 6


def test_star_import_gives_every_public_name_as_torchs_does():
    namespace: dict = {}
    exec("from tinygrad_cnn import *", namespace)
    assert all(namespace[name] is getattr(torch, name) for name in torch.__all__)
    assert namespace["float"] is torch.float32 and namespace["max"] is torch.max and "cat" in namespace


def test_import_is_lazy_and_loads_no_optional_package():
    probe = ("import sys, tinygrad_cnn; "
             "print(sorted(m for m in ('tinygrad_cnn.nn', 'tinygrad_cnn.optim', 'tinygrad_cnn.vision', 'threadpoolctl', "
             "'tinygrad_cnn.utils', 'PIL', 'graphviz', 'tqdm', 'matplotlib', 'sklearn', 'torch') if m in sys.modules)); "
             "tinygrad_cnn.nn; print('tinygrad_cnn.nn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout.split("\n")
    assert out[:2] == ["[]", "True"]
