"""What a refresh of unchanged articles costs against their first crawl.

Serves N news pages from 127.0.0.1 (plain HTTP through ``http_proxy``,
gzip-encoded: bench/throughput.py's page server): half with an ``ETag`` the
server honours (a refresh gets 304s), half with no validators at all (a
refresh gets the byte-identical payload back). Runs
``scrapy crawl qq`` over them, then ``scrapy refresh``, and prints both
times, the speed-up, and how much the WARCs grew with the refresh.

    .venv/bin/python bench/refresh_cost.py [--pages 1000] [--data DIR]

Targets (refresh issue): the refresh at least 5 times faster than the
first crawl; WARC growth under 5% for 304s and revisits. Printed, never
asserted in a timed test.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import PageServer, qq_pages, real_pages  # noqa: E402


def run(args, archive, proxy) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=proxy)
    cmd = [sys.executable, "-m", "scrapy", *args, "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
           "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=32", "-s", "ARCHIVE_IMAGES=False",
           "-s", "RETRY_TIMES=0"]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    return time.monotonic() - started, proc.stdout + proc.stderr


def warc_bytes(archive: Path) -> int:
    return sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--data", type=Path, help="article-extraction-benchmark folder (real pages)")
    args = parser.parse_args()
    pages = real_pages(args.data, args.pages) if args.data else qq_pages(args.pages)
    etags = {url: f'"{hashlib.sha1(url.encode()).hexdigest()[:12]}"'
             for i, url in enumerate(pages) if i % 2 == 0}  # half with validators
    server = PageServer(pages, etags)
    proxy = server.url
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{len(pages)} pages ({'real news pages' if args.data else 'qq fixture templates'}), "
          f"{len(etags)} with an ETag")
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "archive"
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        (seeds / "all.md").write_text("".join(f"- [p]({u})\n" for u in pages), encoding="utf-8")
        crawl_s, crawl_log = run(["crawl", "qq", "-a", f"seeds={seeds}"], archive, proxy)
        before = warc_bytes(archive)
        refresh_s, refresh_log = run(["refresh"], archive, proxy)
        after = warc_bytes(archive)
    server.stop()
    summary = refresh_log[refresh_log.find("refresh summary"):].splitlines()[:6]
    print(f"first crawl:  {crawl_s:7.1f} s  ({len(pages) / crawl_s:.1f} pages/s)")
    print(f"refresh:      {refresh_s:7.1f} s  ({len(pages) / refresh_s:.1f} articles/s), "
          f"{server.not_modified} answered 304")
    print(f"speed-up:     {crawl_s / refresh_s:7.1f} x   (target >= 5)")
    print(f"WARC growth:  {after - before:,} bytes on {before:,} = {(after - before) / before:.2%}   (target < 5%)")
    print("\n".join("  " + line for line in summary))


if __name__ == "__main__":
    main()
