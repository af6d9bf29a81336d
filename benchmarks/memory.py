"""Resident memory of the stack's processes, sampled in the background while the runs go on."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import psutil

SAMPLE_INTERVAL_SECONDS = 0.25
# 15 minutes of samples: more than a whole run, so the loop ends even if nobody stops it.
MAX_SAMPLES = 3600

MB = 1024 * 1024


@dataclass
class RoleMemory:
    """Memory of one role ("gunicorn worker", "consumer"): first and highest sample, in bytes."""

    first: int = 0
    peak: int = 0
    samples: int = 0

    def add(self, rss: int) -> None:
        if self.samples == 0:
            self.first = rss
        self.peak = max(self.peak, rss)
        self.samples += 1


@dataclass
class MemorySampler:
    """Samples the RSS of watched processes; a gunicorn master is watched through its workers."""

    roles: dict[str, RoleMemory] = field(default_factory=dict)
    _watched: dict[int, tuple[str, bool]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def watch(self, pid: int, role: str, *, children: bool = False) -> None:
        with self._lock:
            self._watched[pid] = (role, children)
            self.roles.setdefault(role, RoleMemory())

    def unwatch(self, pid: int) -> None:
        with self._lock:
            self._watched.pop(pid, None)

    def sample(self) -> None:
        with self._lock:
            watched = dict(self._watched)
        for pid, (role, children) in watched.items():
            try:
                parent = psutil.Process(pid)
                processes = parent.children() if children else [parent]
                sizes = [int(process.memory_info().rss) for process in processes]
            except psutil.Error:
                continue
            with self._lock:
                for rss in sizes:
                    self.roles[role].add(rss)

    def _run(self) -> None:
        for _ in range(MAX_SAMPLES):
            self.sample()
            if self._stop.wait(SAMPLE_INTERVAL_SECONDS):
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
