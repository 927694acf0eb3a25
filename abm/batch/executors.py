"""Where runs execute: serially, in local processes, or on a Dask cluster.

Every executor maps the same function over the same chunks and yields results as they
finish, with a bounded number in flight so memory stays flat however many runs there are.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from abm.errors import TfdError

__all__ = ["execute", "EXECUTORS", "process_pool"]

EXECUTORS = ("serial", "processes", "dask")


def _serial(fn, tasks, workers, scheduler, connect_timeout):
    for task in tasks:
        yield task, fn(*task)


def _watch_parent(parent: int, every: float) -> None:
    """In a worker: end this process as soon as the process that started it is gone. A worker
    blocked on its task pipe would otherwise outlive a SIGKILLed run, holding the run's
    stdout and stderr open (and with them any caller reading those to the end)."""

    def watch():
        while os.getppid() == parent:
            threading.Event().wait(every)
        os._exit(1)

    threading.Thread(target=watch, name="tfd-parent-watch", daemon=True).start()


def process_pool(workers: int) -> ProcessPoolExecutor:
    """The project's one way to start worker processes: spawned (no inherited locks or threads,
    the same code path on every platform), each ending within a quarter second of its parent."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_watch_parent, initargs=(os.getpid(), 0.25))


def _processes(fn, tasks, workers, scheduler, connect_timeout):
    tasks = iter(tasks)
    with process_pool(workers) as pool:
        pending = {}
        for task in tasks:
            pending[pool.submit(fn, *task)] = task
            if len(pending) >= 2 * workers:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                yield task, fut.result()
                nxt = next(tasks, None)
                if nxt is not None:
                    pending[pool.submit(fn, *nxt)] = nxt


def _dask(fn, tasks, workers, scheduler, connect_timeout):
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise TfdError("the dask executor needs the [dask] extra: pip install 'tfd-testbed[dask]'") from None
    cluster = None
    if scheduler:
        try:
            client = Client(scheduler, timeout=f"{connect_timeout}s")
        except (OSError, TimeoutError) as exc:
            raise TfdError(f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s "
                           f"({type(exc).__name__}); check the address, or raise --connect-timeout") from None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)
    try:
        tasks = iter(tasks)
        window = max(2 * workers, 2)
        futures, owner = [], {}
        for task in tasks:
            f = client.submit(fn, *task, pure=False)
            owner[f.key] = task
            futures.append(f)
            if len(futures) >= window:
                break
        queue = as_completed(futures)
        for fut in queue:
            task = owner.pop(fut.key)
            yield task, fut.result()
            fut.release()
            nxt = next(tasks, None)
            if nxt is not None:
                f = client.submit(fn, *nxt, pure=False)
                owner[f.key] = nxt
                queue.add(f)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def execute(fn: Callable, tasks: Iterable[tuple], executor: str = "serial", workers: int = 2,
            scheduler: str | None = None, connect_timeout: float = 10.0) -> Iterator[tuple]:
    """Yield ``(task, fn(*task))`` as tasks finish, on the chosen executor."""
    runners = {"serial": _serial, "processes": _processes, "dask": _dask}
    if executor not in runners:
        raise TfdError(f"unknown executor {executor!r}; accepted: {', '.join(EXECUTORS)}")
    if workers < 1:
        raise TfdError(f"workers must be at least 1, got {workers}")
    return runners[executor](fn, tasks, workers, scheduler, connect_timeout)
