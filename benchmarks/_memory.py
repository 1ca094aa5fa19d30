"""Peak anonymous-memory sampling shared by the benchmark scripts (Linux /proc)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def rss_anon_bytes() -> int:
    """Resident anonymous memory of this process (excludes file pages such as memmaps)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("RssAnon not found in /proc/self/status")


def peak_growth(fn: Callable[[], Any], interval: float = 0.002) -> tuple[Any, float, int]:
    """Run ``fn``; return (its result, seconds, peak RssAnon growth in bytes over the start)."""
    start = rss_anon_bytes()
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], rss_anon_bytes())
            time.sleep(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - t0
    peak[0] = max(peak[0], rss_anon_bytes())
    done.set()
    sampler.join()
    return result, seconds, peak[0] - start
