"""DataLoader as torch.utils.data's: batches from a dataset through a sampler and a collate_fn.

Workers are threads, not processes. NumPy's array operations and PIL's image operations
release the GIL, so threads overlap the heavy part of fetching with training; they need
no pickling of the dataset or of lambdas in transforms, start in microseconds and share
the dataset's arrays without copies. Batch ``k`` goes to worker ``k % num_workers``, each
worker draws its random numbers from its own generator seeded ``base_seed + worker_id``
(``base_seed`` drawn from the package's generator when the workers start), and batches come
back in sampler order: a run is reproducible whatever the thread timing, and gives the same
batches as ``num_workers=0``.
"""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import numpy as np

from tinygrad_cnn import random as _random
from tinygrad_cnn.utils.data._utils.collate import default_collate, default_convert
from tinygrad_cnn.utils.data.dataset import IterableDataset
from tinygrad_cnn.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_FIXED = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")
_worker_local = threading.local()


@dataclass(frozen=True)
class WorkerInfo:
    """What a worker knows about itself: ``id`` in [0, num_workers), its ``seed``, the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


def get_worker_info() -> WorkerInfo | None:
    """The calling worker's WorkerInfo, or None outside a DataLoader worker (as torch's)."""
    return getattr(_worker_local, "info", None)


class _Failure:
    """An exception raised in a worker, carried to the main thread."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


_EXHAUSTED = object()


class DataLoader:
    """Iterate over ``dataset`` in batches, with PyTorch's arguments and checks.

    Map-style datasets: ``sampler`` (default SequentialSampler, or RandomSampler when
    ``shuffle``, drawing from ``generator``, a numpy Generator) gives indices, grouped by a
    BatchSampler(``batch_size``, ``drop_last``) or given already grouped by ``batch_sampler``;
    each group is fetched with the dataset's ``__getitems__`` when it has one (else one
    ``dataset[i]`` per index) and passed to ``collate_fn`` (default ``default_collate``).
    With the default collate_fn and a dataset offering ``batch(indices)`` (TensorDataset,
    Subset, the vision datasets), that collated batch is taken as it is, no per-sample work.
    ``batch_size=None`` turns batching off: each sample goes through ``default_convert``.
    Iterable datasets are read in order and grouped ``batch_size`` at a time.

    ``num_workers > 0`` fetches in that many threads (see the module's docstring) with
    ``prefetch_factor`` (default 2) batches in flight per worker; ``worker_init_fn(worker_id)``
    runs first in each; ``timeout`` > 0 raises RuntimeError when a batch takes longer;
    ``persistent_workers`` keeps the threads between epochs. ``pin_memory``,
    ``pin_memory_device``, ``multiprocessing_context`` and ``in_order`` are accepted and
    change nothing (there is no device memory, no process, and order is always kept).

    ``len(loader)`` is the number of batches per epoch. ``state_dict()`` holds the state of the
    shuffling generator when one was given, for resumable checkpoints.
    """

    _initialized = False

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | None = None, batch_sampler: Sampler | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False, drop_last: bool = False,
                 timeout: float = 0, worker_init_fn: Callable[[int], None] | None = None,
                 multiprocessing_context: Any = None, generator: np.random.Generator | None = None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False, pin_memory_device: str = "",
                 in_order: bool = True) -> None:
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading "
                             f"(num_workers > 0), but got num_workers={num_workers}")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")
        if sampler is None and not iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        elif batch_size is not None and iterable:
            BatchSampler(range(0), batch_size, drop_last)  # the same checks of batch_size and drop_last
        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_size is not None or batch_sampler is not None else default_convert)
        self.persistent_workers = persistent_workers
        self._workers: list[_Worker] | None = None
        self._initialized = True

    def __setattr__(self, attr: str, value: Any) -> None:
        if self._initialized and attr in _FIXED:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self.batch_size is not None and self._iterable)

    @property
    def _iterable(self) -> bool:
        return isinstance(self.dataset, IterableDataset)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    # ------------------------------------------------------------------ fetching
    def _fetch(self, indices: Any) -> Any:
        """One batch (a list of indices) or one sample (an index) of a map-style dataset, collated."""
        dataset = self.dataset
        if not self._auto_collation:
            return self.collate_fn(dataset[indices])
        if self.collate_fn is default_collate and callable(getattr(dataset, "batch", None)):
            batch = dataset.batch(indices)
            if batch is not None:
                return list(batch) if isinstance(batch, tuple) else batch
        getitems = getattr(dataset, "__getitems__", None)
        samples = getitems(indices) if callable(getitems) else [dataset[i] for i in indices]
        return self.collate_fn(samples)

    def _stream(self) -> Iterator[Any]:
        """Batches (or converted samples) read from ``iter(dataset)``, in order."""
        it = iter(self.dataset)
        if not self._auto_collation:
            yield from (self.collate_fn(sample) for sample in it)
            return
        while samples := list(itertools.islice(it, self.batch_size)):
            if self.drop_last and len(samples) < self.batch_size:
                return
            yield self.collate_fn(samples)

    def _tasks(self) -> Iterator[Any]:
        return iter(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.num_workers == 0:
            if self._iterable:
                return self._stream()
            return (self._fetch(task) for task in self._tasks())
        return self._threaded()

    # ------------------------------------------------------------------ workers
    def _threaded(self) -> Iterator[Any]:
        tasks = None if self._iterable else self._tasks()
        # the first batches are drawn before the workers' base seed, so a sampler seeded from the
        # package's generator shuffles as it does without workers; without workers nothing draws
        # a base seed, so iterating (evaluate, predict) leaves the package's generator alone
        first = [] if tasks is None else list(itertools.islice(tasks, max(1, self.prefetch_factor) * self.num_workers))
        workers = self._workers
        if workers is None:
            base_seed = int(_random.generator().integers(2**63))
            workers = [_Worker(self, w, base_seed) for w in range(self.num_workers)]
            if self.persistent_workers:
                self._workers = workers
        try:
            if tasks is None:
                yield from self._round_robin(workers, max(1, self.prefetch_factor) * len(workers))
                return
            for sent, task in enumerate(first):
                workers[sent % len(workers)].send(task)
            sent = len(first)
            for k in itertools.count():
                if k == sent:
                    return
                result = workers[k % len(workers)].receive(self.timeout)
                task = next(tasks, _EXHAUSTED)
                if task is not _EXHAUSTED:
                    workers[sent % len(workers)].send(task)
                    sent += 1
                yield result
        finally:
            for worker in workers:
                if workers is self._workers:
                    worker.drain()
                else:
                    worker.stop()

    def _round_robin(self, workers: list["_Worker"], depth: int) -> Iterator[Any]:
        for worker in workers:
            worker.send(("restart",))
            for _ in range(max(1, depth // len(workers))):
                worker.send(("next",))
        active = list(workers)
        turn = 0
        while active:
            worker = active[turn % len(active)]
            result = worker.receive(self.timeout)
            if result is _EXHAUSTED:
                active.remove(worker)
                continue
            worker.send(("next",))
            turn += 1
            yield result

    def state_dict(self) -> dict[str, Any]:
        """``{"generator": state}`` of the shuffling generator given as ``generator`` (or held by
        the sampler), ``{}`` when sampling draws from the package's generator."""
        rng = self.generator if self.generator is not None else getattr(self.sampler, "generator", None)
        return {} if rng is None else {"generator": rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a ``state_dict()`` (the generator's state)."""
        rng = self.generator if self.generator is not None else getattr(self.sampler, "generator", None)
        if "generator" in state:
            if rng is None:
                raise ValueError("DataLoader.load_state_dict: the state holds a generator, this loader has none")
            rng.bit_generator.state = state["generator"]


class _Worker:
    """One worker thread: takes tasks from its queue in order and puts each result (or failure)
    on its result queue. Map-style tasks are index groups; iterable-style tasks are
    ("restart",) (a fresh ``iter(dataset)``) and ("next",) (the next batch, or _EXHAUSTED)."""

    def __init__(self, loader: DataLoader, worker_id: int, base_seed: int) -> None:
        self.loader = loader
        self.info = WorkerInfo(worker_id, loader.num_workers, base_seed + worker_id, loader.dataset)
        self.tasks: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()
        self.pending = 0
        self.thread = threading.Thread(target=self._run, name=f"DataLoader worker {worker_id}", daemon=True)
        self.thread.start()

    def send(self, task: Any) -> None:
        self.pending += task != ("restart",)
        self.tasks.put(task)

    def receive(self, timeout: float) -> Any:
        try:
            result = self.results.get(timeout=timeout if timeout > 0 else None)
        except queue.Empty:
            raise RuntimeError(f"DataLoader timed out after {timeout} seconds") from None
        self.pending -= 1
        if isinstance(result, _Failure):
            raise result.error
        return result

    def drain(self) -> None:
        """Wait for and drop the results still due (a persistent worker starts the next epoch clean)."""
        while self.pending:
            self.pending -= 1
            self.results.get()

    def stop(self) -> None:
        """Drop the tasks not yet started and end the thread after the current one."""
        try:
            while True:
                self.tasks.get_nowait()
        except queue.Empty:
            pass
        self.tasks.put(None)

    def _run(self) -> None:
        _worker_local.info = self.info
        _random.set_thread_generator(np.random.default_rng(self.info.seed % 2**64))
        loader, stream = self.loader, None
        try:
            if loader.worker_init_fn is not None:
                loader.worker_init_fn(self.info.id)
        except Exception as error:  # reported on the first result instead
            failure: _Failure | None = _Failure(error)
        else:
            failure = None
        while (task := self.tasks.get()) is not None:
            if task == ("restart",):
                stream = loader._stream()
                continue
            if failure is not None:
                self.results.put(failure)
                continue
            try:
                if task == ("next",):
                    self.results.put(next(stream, _EXHAUSTED))
                else:
                    self.results.put(loader._fetch(task))
            except Exception as error:
                self.results.put(_Failure(error))
