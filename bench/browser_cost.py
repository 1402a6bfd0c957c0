"""What a browser-rendered page costs against a plain one, and what ``auto`` costs when no page needs it.

Why: ``BROWSER_RENDER = "auto"`` is the default, so a crawl of plain pages
must pay nothing for it, and an operator deciding whether to name hosts
that always go to the browser needs to know what one rendered page costs.

Each configuration is a real ``scrapy crawl qq`` (as cron runs it) of N
pages served on 127.0.0.1 by the test fixture proxy, repeated; the median is
reported. Measured per crawl: wall time, CPU time of the crawl and every
process it started (Playwright's driver and Chromium included, as the
children's rusage), and whether a browser was launched (the crawl's stats).

* ``plain, never``: N plain news pages, no browser possible (the baseline);
* ``plain, auto``: the same pages under the default: must match the baseline;
* ``shell, auto``: N client-rendered pages (a script shell whose text comes
  from a JSON fetch): each is fetched, found empty, rendered in Chromium.

Run from the project root (it needs /usr/bin/chromium)::

    .venv/bin/python bench/browser_cost.py [--pages 6] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures import browser_site as bs  # noqa: E402
from tests.fixtures.qq_site import REFERENCE_TEXT, Page, reference_page  # noqa: E402
from tests.fixtures.server import FixtureProxy  # noqa: E402


def fixture_web(pages: int) -> tuple[dict[str, Page], list[str], list[str]]:
    """(fixture pages, plain page URLs, shell page URLs)."""
    web, plain, shells = {}, [], []
    for i in range(pages):
        url = f"https://plain-news.example.test/2025/03/{i:02d}/story.html"
        web[url] = Page(body=reference_page(f"Story {i}", REFERENCE_TEXT).encode("utf-8"))
        plain.append(url)
        for url, page in bs.spa_pages().items():
            web[url.replace(bs.SPA_HOST, f"spa{i}.example.test")] = page
        shells.append(bs.SPA_URL.replace(bs.SPA_HOST, f"spa{i}.example.test"))
    return web, plain, shells


def crawl(proxy_url: str, urls: list[str], render: str, workdir: Path) -> dict:
    seeds = bs.seed_file(workdir / "seeds", urls)
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=proxy_url, https_proxy=proxy_url)
    cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-a", f"seeds={seeds}",
           "-s", f"ARCHIVE_DIR={workdir / 'archive'}", "-s", "DOWNLOAD_DELAY=0", "-s", f"BROWSER_RENDER={render}"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = proc.stdout + proc.stderr
    archived = re.search(r"archived:\s+(\d+) new", log)
    return {
        "wall": wall,
        "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        "browser": "'browser/launched': 1" in log,
        "archived": int(archived.group(1)) if archived else 0,
        "returncode": proc.returncode,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6, help="pages per crawl")
    parser.add_argument("--repeat", type=int, default=3, help="crawls per configuration (median reported)")
    args = parser.parse_args()

    web, plain, shells = fixture_web(args.pages)
    proxy = FixtureProxy(web).start()
    configs = [("plain, never", plain, "never"), ("plain, auto", plain, "auto"), ("shell, auto", shells, "auto")]
    results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="browser-cost-") as tmp:
            for run in range(args.repeat):
                for name, urls, render in configs:
                    workdir = Path(tmp) / f"{run}-{name.replace(', ', '-')}"
                    results.setdefault(name, []).append(crawl(proxy.url, urls, render, workdir))
    finally:
        proxy.stop()

    print(f"{args.pages} pages per crawl, median of {args.repeat} crawls")
    print(f"{'configuration':<14} {'wall s':>7} {'cpu s':>7} {'archived':>9} {'browser':>8}")
    medians = {}
    for name, runs in results.items():
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        medians[name] = (wall, cpu)
        archived = min(r["archived"] for r in runs)
        browser = "yes" if any(r["browser"] for r in runs) else "no"
        print(f"{name:<14} {wall:7.2f} {cpu:7.2f} {archived:>5}/{args.pages:<3} {browser:>8}")
    base_wall, base_cpu = medians["plain, never"]
    auto_wall, auto_cpu = medians["plain, auto"]
    shell_wall, shell_cpu = medians["shell, auto"]
    print(f"auto on plain pages: {auto_wall - base_wall:+.2f} s wall, {auto_cpu - base_cpu:+.2f} s CPU per crawl "
          f"(browser started: {'yes' if any(r['browser'] for r in results['plain, auto']) else 'no'})")
    print(f"a browser-rendered page: {(shell_wall - base_wall) / args.pages:+.2f} s wall, "
          f"{(shell_cpu - base_cpu) / args.pages:+.2f} s CPU per page over a plain one "
          "(the browser's start-up shared across the crawl)")


if __name__ == "__main__":
    main()
