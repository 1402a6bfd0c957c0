"""Shared-crawl throughput: 1, 2 and 3 workers on Redis against the single-machine crawl.

Serves N pages from 127.0.0.1 (bench/throughput.py's page server and qq
pages), starts its own ``redis-server`` on a free loopback port (no
persistence, in a temporary folder), and crawls the same seeds into a fresh
archive with:

* the single-machine crawl (no Redis), for reference;
* 1, 2 and 3 ``scrapy crawl qq`` workers of one shared run, started
  together, each from its own working folder.

It prints, per run: wall time from the first start to the last exit,
pages/s, CPU seconds used by the crawl processes and their extraction
workers (all children of this script), and the articles archived. The
workers share this machine's cores with each other, with their extraction
workers, with Redis and with the page server: on a 2-core machine, more
workers cannot add cores; what they add is overlap of network waits.

    .venv/bin/python bench/workers.py --size 1000 [--images] [-s NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import PageServer, qq_pages  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(folder: Path) -> tuple[subprocess.Popen, str]:
    import redis

    port = free_port()
    proc = subprocess.Popen([shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return proc, f"redis://127.0.0.1:{port}/0"
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(workers: int, pages: dict, server: PageServer, redis_url: str | None, settings: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        seeds = base / "seeds"
        seeds.mkdir()
        (seeds / "all.md").write_text("".join(f"- [p]({u})\n" for u in pages), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(http_proxy=server.url, SCRAPY_SETTINGS_MODULE="crawler.settings", PYTHONPATH=str(ROOT))
        values = {"DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
                  "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING", "ARCHIVE_DIR": base / "archive", **settings}
        if redis_url:
            values.update(REDIS_URL=redis_url, REDIS_KEY_PREFIX=f"bench{workers}-{time.monotonic_ns()}")
        cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-a", f"seeds={seeds}"]
        for key, value in values.items():
            cmd += ["-s", f"{key}={value}"]
        cpu, started = cpu_seconds(), time.monotonic()
        procs = []
        for i in range(workers):
            folder = base / f"worker{i}"
            folder.mkdir()
            log = open(folder / "log", "wb")
            procs.append((subprocess.Popen(cmd, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT), folder))
            log.close()
        codes = [proc.wait() for proc, _ in procs]
        elapsed, cpu = time.monotonic() - started, cpu_seconds() - cpu
        archived = len(list((base / "archive" / "articles").rglob("*.md")))
        tail = "" if not any(codes) else (procs[0][1] / "log").read_text(errors="replace")[-800:]
    return {"seconds": elapsed, "rate": len(pages) / elapsed, "cpu": cpu, "archived": archived,
            "codes": codes, "tail": tail}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--images", action="store_true", help="also fetch every article's images")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    settings = {"ARCHIVE_IMAGES": args.images, **dict(item.split("=", 1) for item in args.settings)}
    print(f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
          f"Python {platform.python_version()}; {args.size} qq fixture pages, images {'on' if args.images else 'off'}\n")
    pages = qq_pages(args.size)
    server = PageServer(pages)
    tmp = tempfile.TemporaryDirectory()
    redis_proc, redis_url = start_redis(Path(tmp.name))
    try:
        print(f"{'run':<22} {'seconds':>8} {'pages/s':>8} {'CPU s':>7} {'archived':>9} {'exit':>8}")
        rows = [("single machine", run(1, pages, server, None, settings))]
        print(f"{rows[0][0]:<22} {rows[0][1]['seconds']:>8.1f} {rows[0][1]['rate']:>8.1f} {rows[0][1]['cpu']:>7.1f}"
              f" {rows[0][1]['archived']:>9} {','.join(map(str, rows[0][1]['codes'])):>8}", flush=True)
        for workers in args.workers:
            result = run(workers, pages, server, redis_url, settings)
            name = f"shared, {workers} worker{'s' if workers > 1 else ''}"
            print(f"{name:<22} {result['seconds']:>8.1f} {result['rate']:>8.1f} {result['cpu']:>7.1f}"
                  f" {result['archived']:>9} {','.join(map(str, result['codes'])):>8}", flush=True)
            if result["tail"]:
                print("  " + result["tail"].replace("\n", "\n  "))
    finally:
        redis_proc.terminate()
        redis_proc.wait(10)
        server.stop()
        tmp.cleanup()
    print("\nwall time from the first start to the last exit; CPU: every crawl process and extraction worker")


if __name__ == "__main__":
    main()
