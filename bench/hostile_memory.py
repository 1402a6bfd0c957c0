"""Peak memory of a crawl over hostile pages: huge pages and a gzip bomb.

Serves, from a forward proxy on 127.0.0.1 (the test fixture server), a 50 MB
page, a 20 MB page, a 900 MiB gzip bomb (about 900 KB on the wire) and a
normal article, runs the real ``scrapy crawl qq`` over them as a subprocess
through ``https_proxy``, and samples the memory of the crawl and of all its
child processes (the extraction workers and their forkserver) every 20 ms
from /proc: RSS, and the tree's PSS, which counts the pages the workers
share once (bench/proctree.py).

    .venv/bin/python bench/hostile_memory.py [--runs N]

Target (hardening issue): the crawl's peak under 500 MB, all processes together.
Printed, never asserted in a timed test.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.proctree import Sampler  # noqa: E402
from tests.fixtures.qq_site import Page, reference_page  # noqa: E402
from tests.fixtures.server import FixtureProxy  # noqa: E402
from tests.test_limits import gzip_bomb  # noqa: E402

HOST = "https://hostile.example"


def pages() -> dict[str, Page]:
    text = [f"Paragraph {i}: the council met again to discuss the new bridge and its cost." for i in range(12)]
    normal = reference_page("Bridge vote", text).encode()
    filler = ("<p>" + "padding text " * 80 + "</p>\n").encode()
    grow = lambda size: normal.replace(b"</article>", filler * (size // len(filler)) + b"</article>")  # noqa: E731
    return {
        f"{HOST}/normal.html": Page(body=normal),
        f"{HOST}/page-50mb.html": Page(body=grow(50_000_000)),
        f"{HOST}/page-20mb.html": Page(body=grow(20_000_000)),
        f"{HOST}/bomb.html": Page(body=gzip_bomb(900 << 20), headers=[("Content-Encoding", "gzip")]),
    }


def run_once(proxy: FixtureProxy) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        (seeds / "hostile.md").write_text("".join(f"- [x]({u})\n" for u in proxy.pages), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(http_proxy=proxy.url, https_proxy=proxy.url)
        cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-a", f"seeds={seeds}", "-s",
               f"ARCHIVE_DIR={Path(tmp) / 'archive'}", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0"]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sampler = Sampler(proc.pid, pss_every=1, rescan_every=1)
        while proc.poll() is None:
            sampler.sample()
            time.sleep(0.02)
        log = proc.stdout.read()
        elapsed = time.monotonic() - started
        outcome = {url: ("archived" if f"archived: {url} ->" in log else
                         next((line.split(": ", 2)[-1][:110] for line in log.splitlines()
                               if f"not archived: {url}" in line), "?")) for url in proxy.pages}
        if "crawl summary" not in log:
            print(log[-3000:])
        return {"exit": proc.returncode, "seconds": elapsed, "peak_main": sampler.peak_main,
                "peak_tree": sampler.peak_tree, "peak_pss": sampler.peak_pss, "outcome": outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print("building fixtures (50 MB, 20 MB, 900 MiB gzip bomb)...", flush=True)
    proxy = FixtureProxy(pages()).start()
    try:
        for size in ("page-50mb", "page-20mb", "bomb"):
            page = proxy.pages[f"{HOST}/{size}.html"]
            print(f"  {size}: {len(page.body):,} bytes on the wire")
        for run in range(args.runs):
            result = run_once(proxy)
            print(f"\nrun {run + 1}: exit {result['exit']} in {result['seconds']:.1f} s")
            print(f"  peak RSS, crawl process:            {result['peak_main'] / 2**20:7.1f} MiB")
            print(f"  peak PSS, crawl + extraction workers: {result['peak_pss'] / 2**20:7.1f} MiB  (target < 500 MB)")
            print(f"  peak sum of RSS, the same processes:  {result['peak_tree'] / 2**20:7.1f} MiB"
                  "  (shared pages once per process)")
            for url, outcome in result["outcome"].items():
                print(f"  {url.rsplit('/', 1)[-1]:<18} {outcome}")
    finally:
        proxy.stop()
    print(f"\nmachine: {os.cpu_count()} CPUs, {os.uname().machine}, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
