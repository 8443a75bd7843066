"""What iterating a DataLoader costs next to training: one MNIST epoch of
``DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True)`` (ours, then torch's over the
same data in the same run) against one LeNet training epoch at batch 64 (the CLI's recipe:
Adam 1e-3, standardised inputs), as a percentage.

    python benchmarks/loader.py [--train-batches 300] [--repeat 3] [--workers 0] [--no-torch]

The training epoch is timed over ``--train-batches`` batches and scaled to the full 938
(``--train-batches 938`` times all of it). Loader epochs take the best of ``--repeat``.
Our training runs before torch is imported (their thread pools stall each other otherwise).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

BATCH = 64


def best_epoch(loader, repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` full passes over ``loader`` (touching every batch)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for xb, yb in loader:
            pass
        times.append(time.perf_counter() - start)
    return min(times)


def training_epoch(X, y, train_batches: int) -> float:
    """Seconds of one LeNet epoch at batch 64, scaled from ``train_batches`` timed batches."""
    import tinygrad_cnn.nn.functional as F
    from tinygrad_cnn.models import get_model
    from tinygrad_cnn import manual_seed, optim
    from tinygrad_cnn.tensor import Tensor

    manual_seed(0)
    model = get_model("lenet")
    opt = optim.Adam(model.parameters(), lr=1e-3)
    steps = min(train_batches, -(-len(X) // BATCH))
    start = time.perf_counter()
    for k in range(steps):
        xb, yb = Tensor(X[k * BATCH:(k + 1) * BATCH]), Tensor(y[k * BATCH:(k + 1) * BATCH])
        opt.zero_grad()
        F.cross_entropy(model(xb), yb).backward()
        opt.step()
    return (time.perf_counter() - start) * (-(-len(X) // BATCH)) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-batches", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=0, help="num_workers of both loaders")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()

    import numpy as np

    from tinygrad_cnn.data import MNIST_MEAN, MNIST_STD, load_mnist
    from tinygrad_cnn.tensor import Tensor
    from tinygrad_cnn.utils.data import DataLoader, TensorDataset

    X, y, _, _ = load_mnist()
    X = (X - np.float32(MNIST_MEAN)) / np.float32(MNIST_STD)
    train = training_epoch(X, y, args.train_batches)
    ours = best_epoch(DataLoader(TensorDataset(Tensor(X), Tensor(y)), batch_size=BATCH, shuffle=True,
                                 num_workers=args.workers), args.repeat)
    print(f"LeNet training epoch (batch {BATCH}, {len(X)} images): {train:8.2f} s")
    print(f"our loader epoch:   {ours:8.3f} s  = {100 * ours / train:5.2f}% of the training epoch")
    if not args.no_torch:
        import torch
        from torch.utils.data import DataLoader as TorchLoader
        from torch.utils.data import TensorDataset as TorchDataset

        theirs = best_epoch(TorchLoader(TorchDataset(torch.from_numpy(X), torch.from_numpy(y)), batch_size=BATCH,
                                        shuffle=True, num_workers=args.workers), args.repeat)
        print(f"torch loader epoch: {theirs:8.3f} s  = {100 * theirs / train:5.2f}% of the training epoch "
              f"(ours/torch {ours / theirs:.2f})")


if __name__ == "__main__":
    main()
