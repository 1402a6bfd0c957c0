"""Crawl throughput against extraction alone on one core, at growing sizes.

Builds N realistic pages itself and serves them from 127.0.0.1 (a forward
proxy speaking plain HTTP; the crawler reaches it through ``http_proxy``,
as it reaches any proxy). The pages are either the test fixtures' three
Tencent News templates, each page a distinct article id with its own
images (default), or, with ``--data DIR``, the real news pages of the
article-extraction benchmark (``html/*.html.gz``), each served under many
distinct URLs. For every size it prints, from one run:

* the page server's own ceiling (a 32-thread client in another process
  fetching every page), so that it is seen not to be the bottleneck;
* pages/s of ``crawler.extraction.extract_page`` alone, one process, the
  same pages (their first 1,000, which hold every template), in order, the
  mean of a run before and one after the crawls (the single-core rate);
* pages/s of ``scrapy crawl qq`` with politeness off (``DOWNLOAD_DELAY=0``,
  ``CONCURRENT_REQUESTS=32``), images off and on; the ratio of the crawl's
  rate to the single-core extraction rate; peak memory: RSS of the crawl
  process, and of the whole tree (the crawl, its extraction workers and the
  forkserver they fork from) as PSS, each shared page counted once, and as
  the sum of RSS, which counts the code the workers share once per process
  (bench/proctree.py).

    .venv/bin/python bench/throughput.py --sizes 1000 5000 20000 [--data DIR]

Targets (throughput issue): ratio >= 1.3 at 5,000 pages on 2 cores (the
page server shares them), peak memory < 400 MB at 20,000 pages (the crawl
process's RSS, and the whole tree's PSS), growing no faster than linearly.
Printed, never asserted.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import http.server
import multiprocessing
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.proctree import Sampler  # noqa: E402
from tests.fixtures.qq_site import BUILDERS, PNG, QQ_SEEDS, read_seed  # noqa: E402

IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif", ".webp", "/0", "/641", "/1000")


# --- pages ---------------------------------------------------------------------

def qq_pages(count: int) -> dict[str, bytes]:
    """``count`` Tencent pages in the three templates, each a distinct article
    (its own id, title and images), as http:// URLs."""
    templates = []
    for name, template in QQ_SEEDS.items():
        seed = read_seed(name)
        templates.append((seed, BUILDERS[template](seed)))
    pages = {}
    for i in range(count):
        seed, page = templates[i % len(templates)]
        article_id = f"20990101A{i:06d}00"
        page = page.replace(seed.article_id, article_id).replace(seed.meta["title"], f"{seed.meta['title']} {i}")
        page = page.replace("inews.gtimg.com/om_bt/", f"inews.gtimg.com/om_bt/p{i}")
        page = page.replace("inews.gtimg.com/om_ls/", f"inews.gtimg.com/om_ls/p{i}")
        pages[f"http://new.qq.com/rain/a/{article_id}"] = page.replace("https://inews", "http://inews").encode()
    return pages


def real_pages(folder: Path, count: int) -> dict[str, bytes]:
    """``count`` URLs over the benchmark's real pages, round robin."""
    bodies = [gzip.decompress(p.read_bytes()) for p in sorted((folder / "html").glob("*.html.gz"))]
    if not bodies:
        raise SystemExit(f"no html/*.html.gz in {folder}")
    return {f"http://site{i % 97}.bench.test/news/{i}.html": bodies[i % len(bodies)] for i in range(count)}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = self.server.pages.get(self.path)
        ctype = "text/html; charset=utf-8"
        encoded = self.server.gzipped.get(self.path)
        etag = self.server.etags.get(self.path)
        if etag and self.headers.get("If-None-Match") == etag:
            self.server.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        if body is None and self.path.endswith(IMAGE_TYPES) or body is None and "gtimg" in self.path:
            body, ctype = PNG, "image/png"
        if body is None:
            body, status = b"<html><body>not here</body></html>", 404
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        if etag:
            self.send_header("ETag", etag)
        if encoded is not None and "gzip" in self.headers.get("Accept-Encoding", ""):
            body = encoded  # as news servers send their pages
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class PageServer:
    """Serves absolute-URI proxy requests for ``pages`` on 127.0.0.1; a page
    with an entry in ``etags`` sends that ETag and answers a matching
    ``If-None-Match`` with 304 (counted in ``not_modified``)."""

    def __init__(self, pages: dict[str, bytes], etags: dict[str, str] | None = None):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.pages = pages
        self.server.etags = etags or {}
        self.server.not_modified = 0
        self.server.gzipped = {url: gzip.compress(body, 6, mtime=0) for url, body in pages.items()}
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def not_modified(self) -> int:
        return self.server.not_modified

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _fetch_all(port: int, urls: list[str], threads: int) -> float:
    local = threading.local()

    def get(url):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection("127.0.0.1", port)
        conn.request("GET", url)
        conn.getresponse().read()

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(get, urls))
    return len(urls) / (time.perf_counter() - started)


def server_ceiling(server: PageServer, urls: list[str]) -> float:
    """Pages/s the server gives a 32-thread client in another process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_fetch_all, (server.server.server_address[1], urls, 32))


# --- the two measures ----------------------------------------------------------------

def extraction_alone(pages: dict[str, bytes]) -> float:
    """Pages/s of extract_page in this one process, the crawl's own decoding."""
    from scrapy.http import HtmlResponse

    from crawler.extraction import extract_page

    started = time.perf_counter()
    for url, body in pages.items():
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        extract_page(response.url, response.text, response.body, response.encoding)
    return len(pages) / (time.perf_counter() - started)


def crawl(pages: dict[str, bytes], server: PageServer, images: bool, extra: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        (seeds / "all.md").write_text("".join(f"- [p]({u})\n" for u in pages), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(http_proxy=server.url)
        settings = {"DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
                    "ARCHIVE_IMAGES": images, "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING", **extra}
        cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-a", f"seeds={seeds}",
               "-s", f"ARCHIVE_DIR={Path(tmp) / 'archive'}"]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        sampler = Sampler(proc.pid)
        reader = threading.Thread(target=lambda: setattr(proc, "log", proc.stderr.read()), daemon=True)
        reader.start()
        while proc.poll() is None:
            sampler.sample()
            time.sleep(0.05)
        reader.join()
        elapsed = time.monotonic() - started
        archived = len(list((Path(tmp) / "archive" / "articles").rglob("*.md")))
        warc = sum(p.stat().st_size for p in (Path(tmp) / "archive" / "warc").glob("*.warc.gz"))
    return {"seconds": elapsed, "rate": len(pages) / elapsed, "archived": archived, "exit": proc.returncode,
            "peak_main": sampler.peak_main, "peak_tree": sampler.peak_tree, "peak_pss": sampler.peak_pss,
            "cpu_main": sampler.cpu_main,
            "cpu_workers": sampler.cpu_children, "warc": warc, "log": getattr(proc, "log", "")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--data", type=Path, help="article-extraction-benchmark folder (real pages)")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="extra crawl settings")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.settings)
    print(f"machine: {os.cpu_count()} CPUs ({platform.processor() or platform.machine()}), "
          f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, Python {platform.python_version()}")
    print(f"pages: {'real news pages from ' + str(args.data) if args.data else 'qq fixture templates'}\n")
    header = (f"{'pages':>6} {'server':>8} {'extract':>8} {'crawl':>7} {'ratio':>6} {'crawl':>7} {'ratio':>6}"
              f" {'RSS main':>9} {'PSS all':>8} {'RSS sum':>8} {'archived':>9}")
    print(f"{'':>6} {'ceiling':>8} {'1 core':>8} {'no img':>7} {'':>6} {'images':>7} {'':>6}"
          f" {'(MiB)':>9} {'(MiB)':>8} {'(MiB)':>8}")
    print(header.replace("pages", "  size") if False else "-" * len(header))
    cpus, drifts = [], []
    for size in args.sizes:
        pages = real_pages(args.data, size) if args.data else qq_pages(size)
        server = PageServer(pages)
        try:
            ceiling = server_ceiling(server, list(pages))
            # this machine's speed drifts (a shared VM): extraction alone is
            # measured before and after the crawls, on the first 1,000 pages
            # (every page template, in the same round-robin mix), and averaged
            sample = dict(list(pages.items())[:1000])
            before = extraction_alone(sample)
            plain = crawl(pages, server, images=False, extra=extra)
            with_images = crawl(pages, server, images=True, extra=extra)
            after = extraction_alone(sample)
            alone = (before + after) / 2
            drifts.append((size, before, after))
        finally:
            server.stop()
        for run in (plain, with_images):
            if run["archived"] != size:
                print(f"  note: {run['archived']} of {size} archived (exit {run['exit']}): {run['log'][-500:]}")
        cpus.append((size, (plain["cpu_main"], plain["cpu_workers"])))
        print(f"{size:>6} {ceiling:>8.0f} {alone:>8.1f} {plain['rate']:>7.1f} {plain['rate'] / alone:>6.2f}"
              f" {with_images['rate']:>7.1f} {with_images['rate'] / alone:>6.2f}"
              f" {max(plain['peak_main'], with_images['peak_main']) / 2**20:>9.0f}"
              f" {max(plain['peak_pss'], with_images['peak_pss']) / 2**20:>8.0f}"
              f" {max(plain['peak_tree'], with_images['peak_tree']) / 2**20:>8.0f}"
              f" {plain['archived']:>9}", flush=True)
    print("\npages/s; ratio = crawl / extraction alone on one core; memory peaks over both crawls;"
          " PSS all = the crawl process, its extraction workers and their forkserver, shared pages once")
    print("extraction alone before / after the crawls (pages/s): " + "; ".join(
        f"{size}: {b:.1f} / {a:.1f}" for size, b, a in drifts))
    print("CPU seconds of the crawl without images: " + "; ".join(
        f"{size}: crawl process {cpu[0]:.0f}, extraction workers {cpu[1]:.0f}" for size, cpu in cpus))


if __name__ == "__main__":
    main()
