"""A process and its descendants, read from /proc: memory and CPU time.

Shared by the benchmarks: the crawl's extraction workers (and a browser)
are child processes, so the crawl's cost is the tree's, not one process's.

The tree's memory is given two ways. The sum of RSS counts a page shared by
several processes once per process: the workers fork from a server that has
loaded the extraction code, and share it, so that sum overstates what the
crawl takes from the machine. The sum of PSS (proportional set size, the
kernel's ``smaps_rollup``: a shared page split between its sharers) counts
every page once; it is what the crawl costs the machine.
"""

from __future__ import annotations

import os

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (None once the process is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _usage(fields: list[str]) -> tuple[int, float]:
    """(RSS bytes, CPU seconds) from stat fields."""
    return int(fields[21]) * PAGE, (int(fields[11]) + int(fields[12])) / TICK


def snapshot(pid: int) -> dict[int, tuple[int, float]]:
    """{pid: (RSS bytes, CPU seconds)} for ``pid`` and every descendant."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat(entry)
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = _usage(fields)
    tree, stack = {}, [pid]
    while stack:
        current = stack.pop()
        if current in stats:
            tree[current] = stats[current]
        stack.extend(children.get(current, []))
    return tree


def pss(pid: int) -> int:
    """Proportional set size of one process, in bytes (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class Sampler:
    """Peaks of RSS (the process, the tree), of the tree's PSS, and last-seen
    CPU per process. The sampler runs on the cores it measures, and beside a
    2,000-page crawl, sampling every 50 ms, it took 5% of a core: a scan of
    every process on the machine each time, and PSS (the kernel walks each
    process's pages, about 1 ms for 300 MiB) on every new peak of RSS, which
    grows all along. So the machine is scanned for new processes every
    ``rescan_every`` samples, and in between only the tree's known
    processes are read; PSS is read every ``pss_every`` samples, and between
    them once the tree's RSS has grown ``PSS_AFTER_GROWTH`` bytes past what
    it was at the last reading (a peak of PSS is one of RSS too)."""

    #: RSS growth of the tree that makes the next sample read PSS too.
    PSS_AFTER_GROWTH = 4 << 20

    def __init__(self, pid: int, pss_every: int = 40, rescan_every: int = 20):
        self.pid = pid
        self.peak_main = self.peak_tree = self.peak_pss = 0
        self.pss_every = pss_every
        self.rescan_every = rescan_every
        self.samples = 0
        self.cpu: dict[int, float] = {}
        self._rss_at_pss = -1
        self._known: list[int] = []

    def _tree(self) -> dict[int, tuple[int, float]]:
        if self.samples % self.rescan_every == 0:
            tree = snapshot(self.pid)
            self._known = list(tree)
            return tree
        return {pid: _usage(fields) for pid in self._known if (fields := _stat(pid)) is not None}

    def sample(self) -> None:
        tree = self._tree()
        self.peak_main = max(self.peak_main, tree.get(self.pid, (0, 0))[0])
        total = sum(rss for rss, _ in tree.values())
        if self.samples % self.pss_every == 0 or total > self._rss_at_pss + self.PSS_AFTER_GROWTH:
            self.peak_pss = max(self.peak_pss, sum(pss(pid) for pid in tree))
            self._rss_at_pss = total
        self.peak_tree = max(self.peak_tree, total)
        self.samples += 1
        for pid, (_, cpu) in tree.items():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)

    @property
    def cpu_main(self) -> float:
        return self.cpu.get(self.pid, 0.0)

    @property
    def cpu_children(self) -> float:
        return sum(cpu for pid, cpu in self.cpu.items() if pid != self.pid)
