"""Refuse jobs that cannot fit in memory before allocating anything.

Every size a user types (items, agents, instances per step, rounds, population) ends up as
arrays; numpy's own refusal ("Unable to allocate 14.6 TiB") comes after a traceback, or
never, when the machine swaps. :func:`check_fits` compares an estimate with the memory
available now and refuses with the estimate and a hint.
"""

from __future__ import annotations

import os

from abm.errors import TfdError

__all__ = ["available_memory", "check_fits", "check_step", "check_work", "human", "STEP_PEAK_FACTOR"]

#: Peak bytes of one model step over its value matrix (values, reports, the allocation's
#: temporaries, the metrics), measured by ``benchmarks/bench_memory.py``; a safe ceiling.
STEP_PEAK_FACTOR = 6.0


def available_memory() -> int:
    """Bytes available to a new allocation now (MemAvailable on Linux; else the physical
    memory's free pages; else 8 GiB)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(nbytes) < 1024 or unit == "PiB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    return f"{nbytes:.3g} EiB"


def check_fits(nbytes: float, what: str, hint: str) -> None:
    """Raise a :class:`TfdError` naming ``what``, its estimate and ``hint`` when ``nbytes``
    exceeds 80% of the memory available now."""
    room = 0.8 * available_memory()
    if nbytes > room:
        raise TfdError(f"{what} needs about {human(nbytes)} of memory but {human(room)} is available; {hint}")


def check_work(units: float, per_second: float, what: str, hint: str, limit_seconds: float = 3600.0) -> None:
    """Refuse a job whose estimated run time (``units`` of work at ``per_second``, a rate
    measured on the 2-core development VM) exceeds ``limit_seconds``: such a job would run
    past any reasonable wait with no result, so it is refused with the estimate and a hint."""
    seconds = units / per_second
    if seconds > limit_seconds:
        hours = seconds / 3600
        span = f"{hours:.3g} hours" if hours < 48 else f"{hours / 24:.3g} days"
        raise TfdError(f"{what} would take about {span} here (limit {limit_seconds / 3600:g} hour); {hint}")


def check_step(n_agents: int, n_items: int, instances: int, hint: str) -> None:
    """:func:`check_fits` for one model step of ``instances`` instances of n agents x m items."""
    check_fits(8.0 * n_agents * n_items * instances * STEP_PEAK_FACTOR,
               f"a step of {instances} instance(s) of {n_agents} agents x {n_items} items", hint)
