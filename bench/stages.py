"""Where each millisecond of CPU goes: the HTTPS crawl and extraction alone, per stage.

Two measures, both CPU time (``time.thread_time``) charged to named stages,
each stage's time exclusive of the stages it calls, so the stages add up:

* extraction alone: ``extract_page`` in this process over the benchmark's
  181 pages (twice, after a warm-up pass), split into decoding, the control
  characters, the two parses, trafilatura's text and metadata, the meta tags,
  dates, the Chinese and edge rules, and the glue around them;
* the crawl: one ``scrapy crawl qq`` of ``--pages`` URLs over HTTPS, set up
  as ``bench/throughput.py --https`` sets it up (the same pages, 50 hosts, a
  CONNECT proxy with TLS on 127.0.0.1 in a process of its own), run under this
  script's stage wrappers (``--wrapped``); each thread's CPU is read from
  /proc while it runs, and what no wrapper claims is the thread's rest (on the
  reactor: Scrapy's engine, scheduler and middlewares, HTTP parsing,
  Twisted's TLS glue, the spider, asyncio). The start (imports, settings,
  the reactor) is what the main thread spent before the first response.

The wrappers cost about 1 ms of CPU a page themselves. The extraction
workers' CPU is printed whole: the worker path adds nothing measurable to
extraction alone on a quiet machine (pebble, one worker, one page at a time).

    .venv/bin/python bench/stages.py --data DIR [--pages 1000]
"""

from __future__ import annotations

import argparse
import collections
import functools
import gzip
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_acc: dict[int, collections.Counter] = collections.defaultdict(collections.Counter)
_local = threading.local()
_marks: dict[str, float] = {}


def wrap(owner, attr: str, stage: str) -> None:
    """Charge the CPU time of ``owner.attr`` to ``stage``, less its nested stages."""
    fn = getattr(owner, attr)

    @functools.wraps(fn)
    def inner(*args, **kwargs):
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        start = time.thread_time()
        stack.append(0.0)
        try:
            return fn(*args, **kwargs)
        finally:
            elapsed = time.thread_time() - start
            nested = stack.pop()
            _acc[threading.get_native_id()][stage] += elapsed - nested
            if stack:
                stack[-1] += elapsed

    setattr(owner, attr, inner)


# --- extraction alone --------------------------------------------------------------

def extraction_stages(folder: Path) -> tuple[float, collections.Counter]:
    """(CPU seconds a page, CPU seconds a page per stage) of extract_page alone."""
    import trafilatura.core as tcore
    import trafilatura.utils as tutils
    from scrapy.http import HtmlResponse

    import crawler.extraction.pool as pool
    import crawler.sites as sites
    import crawler.sites.generic as generic

    wrap(pool, "extract_page", "glue: adapters, fields, charset check, freeing trees")
    wrap(sites, "clean_page", "control characters out of the page")
    wrap(sites, "clean_fields", "control characters out of the fields")
    wrap(generic, "parse_document", "our parse (lxml, no depth limit)")
    wrap(tcore, "load_html", "trafilatura's parse")
    wrap(tutils, "load_html", "trafilatura's parse")
    wrap(tcore, "extract_metadata", "trafilatura: metadata")
    if hasattr(generic, "_metadata"):  # trafilatura's metadata steps, read by the generic path itself
        wrap(generic, "_metadata", "trafilatura: metadata")
    wrap(tcore, "bare_extraction", "trafilatura: cleaning, text, fallbacks")
    generic.trafilatura.bare_extraction = tcore.bare_extraction
    wrap(generic, "meta_content", "meta tags")
    wrap(generic, "normalize_time", "dates")
    wrap(generic.zh, "is_chinese", "Chinese detection")
    wrap(generic, "_chinese", "Chinese rules")
    wrap(generic.edges, "trim", "edge rules")
    wrap(generic, "site_name", "site name")
    bodies = [gzip.decompress(p.read_bytes()) for p in sorted((folder / "html").glob("*.html.gz"))]
    acc = _acc[threading.get_native_id()]

    def run():
        for i, body in enumerate(bodies):
            started = time.thread_time()
            response = HtmlResponse(f"https://news{i % 50}.example/news/{i}.html", body=body,
                                    headers={"Content-Type": "text/html; charset=utf-8"})
            text = response.text
            acc["decoding (HtmlResponse.text)"] += time.thread_time() - started
            pool.extract_page(response.url, text, response.body, response.encoding)

    run()  # warm-up: trafilatura's lazy tables
    acc.clear()
    started = time.thread_time()
    run()
    run()
    pages = 2 * len(bodies)
    return (time.thread_time() - started) / pages, collections.Counter({k: v / pages for k, v in acc.items()})


# --- the crawl, under the wrappers ---------------------------------------------------

def wrap_crawl() -> None:
    """Stage wrappers on the crawl's own code and the libraries it calls."""
    import logging
    import os as os_module

    from OpenSSL import SSL
    from pebble import ProcessPool
    from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware

    import crawler.extensions.warcindex as warcindex
    import crawler.pipelines.markdown as markdown_pipeline
    import crawler.seeds as seeds
    import crawler.spiders.qq as qq
    import crawler.warc.index as index
    from crawler.archive.storage import ArchiveStore
    from crawler.downloadermiddlewares.gzipdecoding import GzipDecodingMiddleware
    from crawler.downloadermiddlewares.warc import WarcCaptureMiddleware
    from crawler.extensions.state import ArchiveStateRecorder
    from crawler.pipelines.warcmeta import WarcMetadataPipeline
    from crawler.warc import builder

    for method in ("recv", "recv_into", "send", "sendall", "bio_read", "bio_write", "do_handshake", "read", "write"):
        if hasattr(SSL.Connection, method):
            wrap(SSL.Connection, method, "TLS: OpenSSL's calls")
    decoding = "gzip decoding of responses (ISA-L, then Scrapy's middleware)"
    wrap(GzipDecodingMiddleware, "process_response", decoding)
    wrap(HttpCompressionMiddleware, "process_response", decoding)
    original = HttpCompressionMiddleware.process_response

    def first_response(self, *args, **kwargs):  # the start ends at the first response
        if "start" not in _marks:
            _marks["start"] = time.thread_time() - sum(_acc[threading.get_native_id()].values())
        return original(self, *args, **kwargs)

    HttpCompressionMiddleware.process_response = first_response
    wrap(markdown_pipeline.MarkdownWriterPipeline, "write", "Markdown pipeline: identity, checks, state lookups")
    wrap(markdown_pipeline.markdown, "render", "Markdown render and front matter (libyaml)")
    wrap(markdown_pipeline, "article_parts", "text digest (parsed back, normalised, SHA-256)")
    wrap(markdown_pipeline, "parts_digest", "text digest (parsed back, normalised, SHA-256)")
    wrap(ArchiveStore, "_write" if hasattr(ArchiveStore, "_write") else "write_chunks",
         "atomic file writes (temp file, rename)")
    wrap(ArchiveStore, "append_line", "capture state and change log")
    wrap(ArchiveStore, "path", "archive path checks (resolve)")
    wrap(WarcCaptureMiddleware, "capture", "WARC request and response records (headers, digests)")
    wrap(WarcMetadataPipeline, "write", "WARC text and metadata records")
    wrap(builder.GzipMember, "write", "WARC gzip (WARC_GZIP_LEVEL)")
    wrap(builder.GzipMember, "flush", "WARC gzip (WARC_GZIP_LEVEL)")
    wrap(ArchiveStateRecorder, "record_article", "capture state and change log")
    wrap(os_module, "fsync", "fsync, its CPU (WARC records, Markdown files, change log)")
    wrap(index, "update_index", "CDXJ index at the end (the WARC read again)")
    warcindex.update_index = index.update_index
    wrap(seeds, "load_seeds", "seeds read (markdown-it)")
    qq.load_seeds = seeds.load_seeds
    wrap(qq.QqSpider, "not_the_article", "spider: identity checks")
    wrap(ProcessPool, "schedule", "hand-off to the workers (pebble: schedule, send, receive)")
    wrap(logging.Logger, "_log", "logging (records made, most below the log level)")


def run_wrapped(out: Path, argv: list[str]) -> None:
    """``scrapy argv`` in this process, under the wrappers; the stages to ``out`` at exit."""
    import runpy

    wrap_crawl()

    def dump():
        out.write_text(json.dumps({"stages": {str(t): dict(c) for t, c in _acc.items()},
                                   "main": threading.main_thread().native_id, "marks": _marks}))

    sys.argv = ["scrapy", *argv]
    try:
        runpy.run_module("scrapy", run_name="__main__", alter_sys=True)
    finally:
        dump()


def thread_cpu(pid: int, seen: dict) -> None:
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[task.name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def crawl_stages(folder: Path, size: int) -> dict:
    from bench.proctree import Sampler
    from bench.throughput import ServerProcess, make_ca, real_pages

    pages = real_pages(folder, size, https=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ca, cert, key = make_ca(tmp, {urlsplit(u).hostname for u in pages})
        server = ServerProcess(pages, tls=(cert, key))
        try:
            (tmp / "seeds").mkdir()
            (tmp / "seeds" / "all.md").write_text("".join(f"- [p]({u})\n" for u in pages), encoding="utf-8")
            env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
            env.update(http_proxy=server.url, https_proxy=server.url)
            cmd = [sys.executable, str(Path(__file__).resolve()), "--wrapped", str(tmp / "stages.json"), "--",
                   "crawl", "qq", "-a", f"seeds={tmp / 'seeds'}", "-s", f"ARCHIVE_DIR={tmp / 'archive'}"]
            for name, value in {"DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
                                "ARCHIVE_IMAGES": False, "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING"}.items():
                cmd += ["-s", f"{name}={value}"]
            started = time.monotonic()
            proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            sampler, threads = Sampler(proc.pid), {}
            reader = threading.Thread(target=lambda: setattr(proc, "log", proc.stderr.read()), daemon=True)
            reader.start()
            while proc.poll() is None:
                sampler.sample()
                thread_cpu(proc.pid, threads)
                time.sleep(0.05)
            reader.join()
            elapsed = time.monotonic() - started
            archived = len(list((tmp / "archive" / "articles").rglob("*.md")))
            stages = json.loads((tmp / "stages.json").read_text())
        finally:
            server.stop()
    return {"pages": size, "archived": archived, "seconds": elapsed, "threads": threads, "stages": stages,
            "workers": sampler.cpu_children, "exit": proc.returncode, "log": getattr(proc, "log", b"")[-500:]}


def crawl_table(run: dict) -> collections.Counter:
    """ms of CPU a page per stage of the crawl process."""
    pages, stages, threads = run["pages"], run["stages"], run["threads"]
    main = str(stages["main"])
    table: collections.Counter = collections.Counter()
    claimed: collections.Counter = collections.Counter()
    for tid, charged in stages["stages"].items():
        for stage, seconds in charged.items():
            table[stage] += seconds
            claimed[tid] += seconds
    for tid, cpu in threads.items():
        rest = cpu - claimed.get(tid, 0.0)
        if tid == main:
            start = stages["marks"].get("start", 0.0)
            table["start: imports, settings, the reactor (before the first response)"] += start
            table["reactor, the rest: Scrapy's engine and middlewares, HTTP, Twisted's TLS glue, spider"] += rest - start
        elif claimed.get(tid, 0.0) > 0.3 * cpu:
            table["archive I/O thread, the rest (queue, records' glue)"] += rest
        else:
            table["hand-off to the workers (pebble: schedule, send, receive)"] += rest
    return collections.Counter({k: 1000 * v / pages for k, v in table.items()})


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--wrapped":
        run_wrapped(Path(sys.argv[2]), sys.argv[4:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="article-extraction-benchmark folder")
    parser.add_argument("--pages", type=int, default=1000, help="URLs the crawl fetches")
    args = parser.parse_args()
    from bench.throughput import machine

    print(machine())
    run = crawl_stages(args.data, args.pages)
    table = crawl_table(run)
    print(f"\ncrawl of {args.pages} pages over HTTPS: {args.pages / run['seconds']:.1f} pages/s,"
          f" {run['archived']} archived (exit {run['exit']}); CPU ms a page: crawl process"
          f" {sum(table.values()):.2f}, extraction workers {1000 * run['workers'] / args.pages:.2f}")
    for stage, ms in table.most_common():
        print(f"  {ms:6.2f}  {stage}")
    per_page, stages = extraction_stages(args.data)
    print(f"\nextraction alone, one process, the 181 pages twice: {1000 * per_page:.2f} ms of CPU a page")
    for stage, seconds in stages.most_common():
        print(f"  {1000 * seconds:6.2f}  {stage}")


if __name__ == "__main__":
    main()
