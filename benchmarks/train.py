"""Time one training epoch of LeNet and SimpleCNN (the CLI's recipe: Adam 1e-3, a cosine
schedule stepped per epoch over 5 epochs, standardised inputs) at batch 64 and 256, ours next to PyTorch's on the same data, the same
initial weights, the same sample order and the same thread count, and print our/torch ratios.

Each measurement runs in its own child process with OMP/OpenBLAS/MKL thread counts set
before NumPy or torch is imported: in one process the idle worker pools of torch's OpenMP
and NumPy's OpenBLAS stall each other on a small machine. Our epoch is ``train.fit`` with a
shuffling ``DataLoader`` (seeded so its order is the one torch gets); torch's is the plain
loop over a pre-standardised tensor. The final-epoch training loss of both is printed as a
check that the two ran the same computation.

    python benchmarks/train.py [--models lenet simple_cnn] [--batches 64 256] [--threads 2]
                               [--limit 60000] [--repeat 1] [--no-torch] [--profile]

``--profile`` adds, for each of our runs, the ops that took the most time (cProfile of one
epoch, top functions by internal time).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

LR = 1e-3
EPOCHS = 5
SEED = 0


def _data(limit: int):
    from tinygrad_cnn.data import load_mnist

    X, y, _, _ = load_mnist()
    return X[:limit], y[:limit]


def worker_ours(model_name: str, batch: int, limit: int, init: str, profile: bool) -> dict:
    """One epoch of our training loop; returns seconds, final loss and (optionally) a profile."""
    import numpy as np

    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn.models import get_model
    from tinygrad_cnn import optim
    from tinygrad_cnn.data import DataLoader
    from tinygrad_cnn.train import fit

    X, y = _data(limit)
    model = get_model(model_name)
    with np.load(init) as weights:
        model.load_state_dict({k: weights[k] for k in weights.files})
    loader = DataLoader(X, y, batch_size=batch, shuffle=True, seed=SEED, normalize=True)
    opt = optim.Adam(model.parameters(), lr=LR)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)

    def epoch():
        return fit(model, loader, opt, F.cross_entropy, 1, scheduler=scheduler, quiet=True)

    result = {}
    if profile:
        import cProfile
        import io
        import pstats

        profiler = cProfile.Profile()
        start = time.perf_counter()
        history = profiler.runcall(epoch)
        result["seconds"] = time.perf_counter() - start
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(15)
        result["profile"] = stream.getvalue()
    else:
        start = time.perf_counter()
        history = epoch()
        result["seconds"] = time.perf_counter() - start
    result["loss"] = history.train_loss[-1]
    return result


def _torch_model(name: str):
    import torch.nn as tnn

    class LeNet(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = tnn.Conv2d(1, 6, 5), tnn.Conv2d(6, 16, 5)
            self.fc1, self.fc2, self.fc3 = tnn.Linear(256, 120), tnn.Linear(120, 84), tnn.Linear(84, 10)

        def forward(self, x):
            import torch.nn.functional as tf

            x = tf.max_pool2d(tf.relu(self.conv1(x)), 2)
            x = tf.max_pool2d(tf.relu(self.conv2(x)), 2).flatten(1)
            return self.fc3(tf.relu(self.fc2(tf.relu(self.fc1(x)))))

    class SimpleCNN(tnn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = tnn.Conv2d(1, 8, 3, padding=1), tnn.Conv2d(8, 16, 3, padding=1)
            self.fc1, self.fc2 = tnn.Linear(784, 128), tnn.Linear(128, 10)

        def forward(self, x):
            import torch.nn.functional as tf

            x = tf.max_pool2d(tf.relu(self.conv1(x)), 2)
            x = tf.max_pool2d(tf.relu(self.conv2(x)), 2).flatten(1)
            return self.fc2(tf.relu(self.fc1(x)))

    return {"lenet": LeNet, "simple_cnn": SimpleCNN}[name]()


def worker_torch(model_name: str, batch: int, limit: int, init: str, threads: int) -> dict:
    """One epoch of the same training in PyTorch, same weights and sample order."""
    import numpy as np
    import torch
    import torch.nn.functional as tf

    from tinygrad_cnn.data import MNIST_MEAN, MNIST_STD

    torch.set_num_threads(threads)
    X, y = _data(limit)
    model = _torch_model(model_name)
    with np.load(init) as weights:
        model.load_state_dict({k: torch.from_numpy(weights[k]) for k in weights.files})
    Xt = torch.from_numpy((X - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD))
    yt = torch.from_numpy(y)
    order = torch.from_numpy(np.random.default_rng(SEED).permutation(len(X)))
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS)
    model.train()
    total, seen = 0.0, 0
    start = time.perf_counter()
    for i in range(0, len(X), batch):
        idx = order[i:i + batch]
        loss = tf.cross_entropy(model(Xt[idx]), yt[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
        seen += len(idx)
    scheduler.step()
    return {"seconds": time.perf_counter() - start, "loss": total / seen}


def _run_worker(kind: str, model: str, batch: int, args: argparse.Namespace, init: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [sys.executable, __file__, "--worker", kind, "--models", model, "--batches", str(batch),
           "--threads", str(args.threads), "--limit", str(args.limit), "--init", init]
    if args.profile:
        cmd.append("--profile")
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} worker for {model} batch {batch} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["lenet", "simple_cnn"], choices=["lenet", "simple_cnn"])
    parser.add_argument("--batches", nargs="+", type=int, default=[64, 256])
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--limit", type=int, default=60000, help="training images per epoch (default: all)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each measurement this many times and keep the fastest (the machine is shared)")
    parser.add_argument("--no-torch", action="store_true", help="time ours only")
    parser.add_argument("--profile", action="store_true", help="print the top functions of each of our epochs")
    parser.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    parser.add_argument("--init", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.worker:
        model, batch = args.models[0], args.batches[0]
        if args.worker == "ours":
            result = worker_ours(model, batch, args.limit, args.init, args.profile)
        else:
            result = worker_torch(model, batch, args.limit, args.init, args.threads)
        print(json.dumps(result))
        return

    import numpy as np

    from tinygrad_cnn.models import get_model
    from tinygrad_cnn import manual_seed

    use_torch = not args.no_torch and importlib.util.find_spec("torch") is not None
    print(f"one epoch of {args.limit:,} MNIST images, Adam {LR:g} (cosine over {EPOCHS} epochs), "
          f"{args.threads} thread(s)"
          + ("" if use_torch else "; torch not timed"))
    header = f"{'model':<11}{'batch':>6}{'ours s':>9}{'img/s':>9}" + (
        f"{'torch s':>9}{'ratio':>7}{'loss ours':>11}{'loss torch':>11}" if use_torch else f"{'loss':>9}")
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            manual_seed(SEED)
            init = str(Path(tmp) / f"{model}.npz")
            np.savez(init, **get_model(model).state_dict())
            for batch in args.batches:
                ours = min((_run_worker("ours", model, batch, args, init) for _ in range(args.repeat)),
                           key=lambda r: r["seconds"])
                line = f"{model:<11}{batch:>6}{ours['seconds']:>9.2f}{args.limit / ours['seconds']:>9,.0f}"
                if use_torch:
                    theirs = min((_run_worker("torch", model, batch, args, init) for _ in range(args.repeat)),
                                 key=lambda r: r["seconds"])
                    line += (f"{theirs['seconds']:>9.2f}{ours['seconds'] / theirs['seconds']:>7.2f}"
                             f"{ours['loss']:>11.4f}{theirs['loss']:>11.4f}")
                else:
                    line += f"{ours['loss']:>9.4f}"
                print(line, flush=True)
                if args.profile:
                    print(ours["profile"])


if __name__ == "__main__":
    main()
