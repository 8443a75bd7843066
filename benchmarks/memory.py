"""Memory of a real `tinygrad-cnn train` run: resident memory after each epoch and the peak.

Runs the command (by default the default recipe: LeNet, 5 epochs) as a child process and
reads its /proc/PID/status (VmRSS: resident now; VmHWM: the peak so far) when each epoch
line appears, and every 0.2 s for the peak. Linux only; no psutil needed. The run passes
when the peak stays below --budget-mb and RSS does not grow from epoch to epoch by more
than --growth-mb (epoch 1 -> last).

    python benchmarks/memory.py [--budget-mb 1024] [--growth-mb 50] [-- TRAIN ARGS...]
    python benchmarks/memory.py -- --epochs 2 --limit 20000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def status_mb(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of process ``pid`` in MiB (empty once it has exited)."""
    values = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-mb", type=float, default=1024.0, help="peak resident memory allowed (MiB)")
    parser.add_argument("--growth-mb", type=float, default=50.0, help="RSS growth allowed from epoch 1 to the last")
    parser.add_argument("train_args", nargs="*", help="arguments for `tinygrad-cnn train` (after --)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "tinygrad_cnn", "train", "--quiet", "--out", out, *args.train_args]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        print("running:", " ".join(cmd[1:]), flush=True)
        child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        peak = [0.0]

        def sample() -> None:
            while child.poll() is None:
                peak[0] = max(peak[0], status_mb(child.pid).get("VmHWM", 0.0))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        per_epoch: list[float] = []
        for line in child.stdout:
            mem = status_mb(child.pid)
            if line.startswith("epoch ") and mem:
                per_epoch.append(mem["VmRSS"])
                peak[0] = max(peak[0], mem["VmHWM"])
                line = line.rstrip("\n") + f"  [RSS {mem['VmRSS']:.0f} MiB, peak {mem['VmHWM']:.0f} MiB]\n"
            print(line, end="", flush=True)
        child.wait()
        sampler.join()
    if child.returncode != 0:
        print(f"train exited with status {child.returncode}")
        return 1
    growth = per_epoch[-1] - per_epoch[0] if per_epoch else 0.0
    print(f"peak resident memory {peak[0]:.0f} MiB (budget {args.budget_mb:.0f}); RSS per epoch "
          + ", ".join(f"{m:.0f}" for m in per_epoch) + f" MiB (growth {growth:+.0f} MiB, allowed {args.growth_mb:.0f})")
    ok = peak[0] < args.budget_mb and growth <= args.growth_mb
    print("OK" if ok else "OVER BUDGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
