"""Run a program under real PyTorch (test-side): ``python run_torch.py STATE_OUT SCRIPT ARGS...``.

Before the first forward of the program's model, its initial state_dict is saved to STATE_OUT
(torch.save), so the same program under tinygrad-cnn run can start from the same weights
(TINYGRAD_CNN_INITIAL_STATE). torchvision is this folder's stand-in."""

import runpy
import sys

import torch

state_out, script, *args = sys.argv[1:]
original = torch.nn.Module.__call__
saved = []


def call(module, *a, **k):
    if not saved:
        torch.save(module.state_dict(), state_out)
        saved.append(module)
    return original(module, *a, **k)


torch.nn.Module.__call__ = call
sys.argv = [script, *args]
runpy.run_path(script, run_name="__main__")
