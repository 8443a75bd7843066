"""What ``fit`` shows while it trains, as Keras' ``model.fit(verbose=...)``: a live bar and one line per epoch.

``verbose=1`` (the default): a tqdm bar (``tqdm.auto``: a widget in Jupyter, text on a terminal)
with the running loss, accuracy, speed and the ETA of the whole run, replaced at the end of each
epoch by one permanent line (``epoch_line``) on stdout. Without tqdm, or when stderr is neither a
terminal nor a notebook, only the epoch lines are printed. ``verbose=2``: the epoch lines only.
``verbose=0``: nothing. Everything fits in 80 columns.
"""

from __future__ import annotations

import shutil
import sys
import time
import warnings
from typing import Any

MAX_COLUMNS = 100


def _rate(samples: float, seconds: float) -> str:
    """Images per second, short: "950 img/s", "14.6k img/s"."""
    rate = samples / max(seconds, 1e-9)
    return f"{rate / 1000:.1f}k img/s" if rate >= 1000 else f"{rate:.0f} img/s"


def epoch_line(epoch: int, total: int, history: Any, samples: int) -> str:
    """One line (at most 80 columns) on epoch ``epoch`` (1-based) of ``total`` from ``history``:
    training loss and accuracy, validation loss and accuracy when recorded, learning rate, the
    epoch's seconds (training and validation) and training images (``samples``) per second of
    training time (``history.train_seconds`` when recorded, else the epoch's seconds)."""
    i = epoch - 1
    line = f"epoch {epoch}/{total}  train {history.train_loss[i]:.4f} {history.train_acc[i]:.2%}"
    if history.val_loss[i] is not None:
        line += f"  val {history.val_loss[i]:.4f} {history.val_acc[i]:.2%}"
    seconds = history.seconds[i]
    train_seconds = history.train_seconds[i] if len(getattr(history, "train_seconds", ())) > i else seconds
    clock = f"{seconds:.1f}s" if seconds < 10 else f"{seconds:.0f}s"
    return line + f"  lr {history.lr[i]:.1e} {clock} {_rate(samples, train_seconds)}"


def _clock(seconds: float) -> str:
    """``seconds`` as m:ss (h:mm:ss past an hour)."""
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _in_notebook() -> bool:
    """True inside a Jupyter kernel (where tqdm.auto draws a widget)."""
    shell = sys.modules.get("IPython")
    ipython = getattr(shell, "get_ipython", lambda: None)() if shell is not None else None
    return ipython is not None and type(ipython).__name__ == "ZMQInteractiveShell"


class Progress:
    """The display of one ``fit`` call: ``epochs`` epochs of ``steps`` batches (None: not known
    beforehand, no ETA), at ``verbose`` 0, 1 or 2.

    Call ``start_epoch`` before an epoch, ``step`` after each batch, ``end_training`` when its
    batches are done (also on failure) and ``end_epoch`` with the epoch's line. ``samples`` is
    the number of training images of the current epoch so far.
    """

    def __init__(self, epochs: int, steps: int | None, verbose: int) -> None:
        if verbose not in (0, 1, 2):
            raise ValueError(f"fit: verbose must be 0 (silent), 1 (progress bar) or 2 (one line per epoch), "
                             f"got {verbose!r}")
        self.verbose, self.steps = verbose, steps
        self.remaining = None if steps is None else epochs * steps
        self.done, self.samples, self.train_seconds = 0, 0, 0.0
        self._bar: Any = None
        self._tqdm = self._bar_class() if verbose == 1 else None

    @staticmethod
    def _bar_class() -> Any:
        if not (sys.stderr.isatty() or _in_notebook()):
            return None
        try:
            with warnings.catch_warnings():  # a notebook without ipywidgets gets the text bar, without a warning
                warnings.filterwarnings("ignore", message="IProgress not found")
                from tqdm.auto import tqdm
        except ImportError:
            return None
        return tqdm

    def start_epoch(self, epoch: int, total: int) -> None:
        """Open the bar of epoch ``epoch`` of ``total``."""
        self._epoch_start = time.perf_counter()
        if self._tqdm is not None:
            columns = min(shutil.get_terminal_size((80, 24)).columns, MAX_COLUMNS)
            self._desc = f"epoch {epoch}/{total}"
            self._bar = self._tqdm(total=self.steps, desc=self._desc, unit="batch", leave=False, ncols=columns,
                                   bar_format="{desc} {percentage:3.0f}%|{bar}|", file=sys.stderr)

    def step(self, seen: int, loss: float, correct: int) -> None:
        """After a batch: ``seen`` images so far this epoch, their summed ``loss`` and ``correct`` count."""
        self.done, self.samples = self.done + 1, seen
        if self._bar is None:
            return
        if self._bar.n % 10 == 0 or self._bar.n + 1 == self.steps:
            elapsed = self.train_seconds + time.perf_counter() - self._epoch_start
            eta = "" if self.remaining is None else f" ETA {_clock(elapsed / self.done * (self.remaining - self.done))}"
            self._bar.set_description_str(f"{self._desc} loss {loss / seen:.4f} acc {correct / seen:.2%} "
                                          f"{_rate(seen, time.perf_counter() - self._epoch_start)}{eta}")
        self._bar.update(1)

    def end_training(self) -> float:
        """Close the epoch's bar when its batches are done; returns the epoch's training seconds."""
        seconds = time.perf_counter() - self._epoch_start
        self.train_seconds += seconds
        self.close()
        return seconds

    def end_epoch(self, line: str) -> None:
        """Print the epoch's permanent ``line`` (verbose 1 and 2)."""
        if self.verbose:
            print(line, flush=True)

    def close(self) -> None:
        """Remove the bar, if one is open."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
