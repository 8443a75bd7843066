"""The thread count of the ops, and a small pool that runs an op's independent parts at once.

NumPy releases the GIL in copies, ufuncs and BLAS calls, so the memory-bound im2col and
col2im copies and the matmuls of conv2d, and the passes of pooling, run on both cores when
an op splits its work into parts (output rows, channels) and hands them to ``run``. Each
Python thread then calls BLAS with ONE thread: the first use (or ``set_num_threads``) limits
the process's BLAS pools to 1 thread through threadpoolctl, so that T Python threads never
meet T BLAS threads each (on 2 cores, 2x2 threads made training up to 10x slower, since
OpenBLAS's idle threads spin). An op's result must not depend on the thread count: ops split
their work the same way whatever the count, and ``run`` only chooses who computes each part.

Each thread takes the next part left when it is free, so when other processes keep a thread
off its core the others do its share: on a 2-core machine with a load of 18, a training epoch
on 2 threads took about as long as on one (PyTorch's, on its 2 OpenMP threads, 12x as long).

Unless ``set_num_threads`` fixed the count, ``run`` also leaves to other processes the cores
they keep busy: about every half second it reads the machine's busy time (/proc/stat) and its
own CPU time, and uses only the cores the others leave idle (at least one). With five other
busy processes on 2 cores, LeNet at batch 64 took 9-13 ms a step on one thread and 15-21 ms on
two, which then wait for each other's turn on a core.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
import time
from typing import Callable, Sequence, TypeVar

import numpy as np

from tinygrad_cnn.ops.memory import keep_freed_memory

T = TypeVar("T")

_lock = threading.Lock()
_inside = threading.local()  # set in pool workers and while a run is under way: nested runs go serially
_num_threads: int | None = None  # None until set or first used: then the default
_workers: list["_Worker"] = []
_blas_limited = False
_cores: int | None = None


def _default_threads() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    global _cores
    if _cores is None:
        try:
            _cores = max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # macOS, Windows
            _cores = max(1, os.cpu_count() or 1)
    return _cores


def limit_blas() -> None:
    """Give BLAS (OpenBLAS, MKL, BLIS, OpenMP) one thread per calling thread, once. ``run`` does
    it at its first call (``prepare_process``); a program that does NumPy work before that
    (loading data) is faster when it calls this first: LeNet's default run took 27 s instead of
    34 s on 2 cores."""
    global _blas_limited
    if _blas_limited:
        return
    _blas_limited = True
    _limit_pools()


def _limit_pools() -> None:
    """Every BLAS/OpenMP pool loaded by now to one thread (threadpoolctl; without it, BLAS keeps
    its own default and the ops still split their work)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return
    threadpool_limits(limits=1)


def prepare_process() -> None:
    """Once per process: BLAS at one thread per calling thread (``limit_blas``) and glibc's
    malloc keeping freed blocks for reuse (``memory.keep_freed_memory``). ``run`` does it at
    its first call, and so do the matrix products (ops/matmul.py: a program of matmuls alone,
    a two-layer MLP, took 5.0 s with BLAS's two threads on a 2-core machine kept busy by two
    other processes, 1.4 s with one); a program that allocates and computes before that
    (loading data) gains from calling it first."""
    limit_blas()
    keep_freed_memory()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads (>= 1) for the ops' work, each calling BLAS single-threaded, as
    torch.set_num_threads. Applies to the whole process (BLAS's thread count is global), and
    to the BLAS libraries loaded since the first op ran (torch's, imported later) as well."""
    global _num_threads, _blas_limited
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads: n must be an int >= 1, got {n!r}")
    with _lock:
        _blas_limited = True
        _limit_pools()
        _num_threads = n
        _resize(n - 1)


def get_num_threads() -> int:
    """The number of threads the ops use (the cores available to the process unless set)."""
    return _default_threads() if _num_threads is None else _num_threads


LOAD_INTERVAL = 0.5  # seconds between two looks at the other processes' load


class _Load:
    """How many of the cores other processes keep busy, from /proc/stat's idle time and this
    process's CPU time over the last LOAD_INTERVAL (Linux; elsewhere nothing is known and the
    other processes count as none)."""

    def __init__(self) -> None:
        self.last: tuple[float, float, float, float] | None = None
        self.free = float("inf")

    @staticmethod
    def sample() -> tuple[float, float, float, float] | None:
        """(wall seconds, machine busy jiffies, machine total jiffies, own CPU seconds), or None."""
        try:
            with open("/proc/stat", "rb") as f:
                fields = f.readline().split()[1:]
        except OSError:
            return None
        ticks = [int(v) for v in fields[:8]]
        idle = ticks[3] + ticks[4]  # idle + iowait
        return time.monotonic(), sum(ticks) - idle, sum(ticks), time.process_time()

    def free_cores(self) -> float:
        """Cores not kept busy by other processes (inf until measured)."""
        now = time.monotonic()
        if self.last is not None and now - self.last[0] < LOAD_INTERVAL:
            return self.free
        current = self.sample()
        if current is None:
            return self.free
        if self.last is not None and current[2] > self.last[2]:
            wall = current[0] - self.last[0]
            cpus = os.cpu_count() or 1
            busy = cpus * (current[1] - self.last[1]) / (current[2] - self.last[2])
            mine = (current[3] - self.last[3]) / wall
            self.free = cpus - max(0.0, busy - mine)
        self.last = current
        return self.free


_load = _Load()


def _threads_now() -> int:
    """The threads ``run`` uses now: the count set, or by default the cores available that
    other processes leave idle (at least one)."""
    if _num_threads is not None:
        return _num_threads
    cores = _default_threads()
    if cores < 2:
        return cores
    free = _load.free_cores()
    return cores if free >= cores else max(1, int(free + 0.5))


class _Job:
    """One call of ``run``: its tasks, handed out one at a time to whichever thread asks next."""

    def __init__(self, tasks: Sequence[Callable[[], T]]) -> None:
        self.tasks = tasks
        self.results: list = [None] * len(tasks)
        self.errors: list[tuple[int, BaseException]] = []
        self.lock = threading.Lock()
        self.next = 0
        self.open = True  # False once the caller has finished: late workers then skip the job
        self.running = 0
        self.done: queue.SimpleQueue = queue.SimpleQueue()

    def work(self) -> None:
        """Run tasks until none is left."""
        while True:
            with self.lock:
                k = self.next
                self.next += 1
            if k >= len(self.tasks):
                return
            try:
                self.results[k] = self.tasks[k]()
            except BaseException as error:  # handed to the caller, who raises it
                self.errors.append((k, error))


class _Worker(threading.Thread):
    """A daemon thread that helps with each job put on its queue (None stops it)."""

    def __init__(self) -> None:
        super().__init__(name="tinygrad_cnn-worker", daemon=True)
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()

    def run(self) -> None:
        _inside.active = True
        while True:
            job = self.jobs.get()
            if job is None:
                return
            with job.lock:
                joined = job.open
                job.running += joined
            if joined:
                job.work()
                job.done.put(None)
            # drop the job before waiting for the next: its tasks hold the op's arrays (kept
            # until then, each conv2d's columns outlived the call and glibc faulted in new ones)
            del job


def _resize(count: int) -> None:
    """Keep exactly ``count`` pool workers (called with ``_lock`` held)."""
    while len(_workers) > count:
        _workers.pop().jobs.put(None)
    while len(_workers) < count:
        worker = _Worker()
        worker.start()
        _workers.append(worker)


def _forget_workers() -> None:
    """In a forked child the parent's threads do not exist: start afresh."""
    global _lock
    _lock = threading.Lock()
    _workers.clear()
    _load.last, _load.free = None, float("inf")  # the parent's CPU time is not the child's


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_workers)


def run(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Call every task of ``tasks`` (independent of each other) and return their results in
    order, spreading them over ``get_num_threads()`` threads (each thread takes the next task
    left when it is free). Runs them one after the other with one thread, inside a task, or
    while another thread's run is under way. When tasks raise, the exception of the first
    such task (in list order) is raised once all tasks have finished."""
    prepare_process()
    threads = _threads_now()
    if len(tasks) < 2 or threads < 2 or getattr(_inside, "active", False) or not _lock.acquire(blocking=False):
        return [task() for task in tasks]
    try:
        _inside.active = True
        if len(_workers) != threads - 1:
            _resize(threads - 1)
        job = _Job(tasks)
        for worker in _workers[:len(tasks) - 1]:
            worker.jobs.put(job)
        job.work()
        with job.lock:
            job.open = False
            running = job.running
        for _ in range(running):
            job.done.get()
        results, errors = job.results, job.errors
        job.tasks = job.results = job.errors = ()  # a worker that wakes late must not keep them
        if errors:
            raise min(errors, key=lambda e: e[0])[1]
        return results
    finally:
        _inside.active = False
        _lock.release()


ELEMENTWISE_PARALLEL = 1 << 19  # elements from which an elementwise pass runs in two parts


def elementwise(fn: Callable[..., object], out: np.ndarray, *arrays: np.ndarray) -> np.ndarray:
    """Call ``fn(out_part, *array_parts)``, which writes an elementwise result into out_part, on
    ``out`` and ``arrays`` (one shape): in two halves spread over the threads from
    ELEMENTWISE_PARALLEL elements on, else in one call. Each half is one or two long NumPy
    calls, which the threads run side by side (a large pass is bound by memory, and two cores
    read it faster). Arrays of one layout without gaps are passed as their flat memory, others
    as they are, halved along the axis outermost in out's memory. Returns ``out``."""
    flats = _flat_views(out, arrays)
    if out.size < ELEMENTWISE_PARALLEL:
        fn(*flats) if flats else fn(out, *arrays)
    elif flats:
        run([functools.partial(fn, *(f[part] for f in flats)) for part in split(out.size, 2)])
    else:
        axis = max((i for i in range(out.ndim) if out.shape[i] > 1), key=lambda i: abs(out.strides[i]))
        halves = [(slice(None),) * axis + (part,) for part in split(out.shape[axis], 2)]
        run([functools.partial(fn, out[half], *(x[half] for x in arrays)) for half in halves])
    return out


def _flat_views(out: np.ndarray, arrays: tuple[np.ndarray, ...]) -> list[np.ndarray] | None:
    """``out`` and ``arrays`` as 1-D views of their memory, in the order of out's strides, when
    all share out's strides and out has no gaps; else None. (The axes are sorted in Python: on a
    strides tuple np.argsort took 3 us of the 6 us this took per array.)"""
    strides = out.strides
    for x in arrays:
        if x.strides != strides:
            return None
    if out.flags.c_contiguous:
        return [out.reshape(-1)] + [x.reshape(-1) for x in arrays]
    order = sorted(range(out.ndim), key=lambda i: -strides[i])
    ordered = out.transpose(order)
    if not ordered.flags.c_contiguous:
        return None
    return [ordered.reshape(-1)] + [x.transpose(order).reshape(-1) for x in arrays]


def split(length: int, parts: int) -> list[slice]:
    """``range(length)`` cut into ``min(parts, length)`` consecutive slices of near-equal size."""
    parts = max(1, min(parts, length))
    bounds = [length * k // parts for k in range(parts + 1)]
    return [slice(a, b) for a, b in zip(bounds, bounds[1:])]
