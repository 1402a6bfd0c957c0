"""A process and its descendants, read from /proc: memory and CPU time.

Shared by the benchmarks: the crawl's extraction workers (and a browser)
are child processes, so the crawl's cost is the tree's, not one process's.
"""

from __future__ import annotations

import os

PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


def snapshot(pid: int) -> dict[int, tuple[int, float]]:
    """{pid: (RSS bytes, CPU seconds)} for ``pid`` and every descendant."""
    children: dict[int, list[int]] = {}
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        stats[int(entry)] = (int(fields[21]) * PAGE, (int(fields[11]) + int(fields[12])) / TICK)
    tree, stack = {}, [pid]
    while stack:
        current = stack.pop()
        if current in stats:
            tree[current] = stats[current]
        stack.extend(children.get(current, []))
    return tree


class Sampler:
    """Peaks of RSS (the process, the tree) and last-seen CPU per process."""

    def __init__(self, pid: int):
        self.pid = pid
        self.peak_main = self.peak_tree = 0
        self.cpu: dict[int, float] = {}

    def sample(self) -> None:
        tree = snapshot(self.pid)
        self.peak_main = max(self.peak_main, tree.get(self.pid, (0, 0))[0])
        self.peak_tree = max(self.peak_tree, sum(rss for rss, _ in tree.values()))
        for pid, (_, cpu) in tree.items():
            self.cpu[pid] = max(self.cpu.get(pid, 0.0), cpu)

    @property
    def cpu_main(self) -> float:
        return self.cpu.get(self.pid, 0.0)

    @property
    def cpu_children(self) -> float:
        return sum(cpu for pid, cpu in self.cpu.items() if pid != self.pid)
