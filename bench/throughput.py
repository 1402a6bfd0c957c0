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
* pages/s of ``crawler.extraction.pool.extract_page`` alone, one process, the
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

With ``--https --data DIR`` it measures what users see instead: the real
pages as ``https://news{i % 50}.example/news/{i}.html``, served by the same
server, now in a process of its own, answering ``CONNECT`` with TLS (a
certificate from a throwaway CA); the crawl reaches it through
``https_proxy``. For every size, in one run: the crawl's pages/s and CPU
ms/page, split between the crawl process and its extraction workers (the
forkserver counted with them), the server's CPU apart; extraction alone on
one core (ms of CPU and pages/s); trafilatura's own CLI on the same URLs
through the same proxy (``--parallel 2 --markdown --with-metadata
--backup-dir``, no sleep, bench/trafilatura_peer.py), pages/s and CPU
ms/page; and the ratios crawl CPU per page / extraction alone, crawl pages/s
/ trafilatura CLI, crawl pages/s / one core of extraction; and the crawl's
peak memory (its process's RSS, the whole tree's PSS and sum of RSS).

    .venv/bin/python bench/throughput.py --https --sizes 2000 20000 --data DIR

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
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.proctree import Sampler, snapshot  # noqa: E402
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


def real_pages(folder: Path, count: int, https: bool = False) -> dict[str, bytes]:
    """``count`` URLs over the benchmark's real pages, round robin: plain
    http:// on 97 hosts, or https:// on 50 (``news{i % 50}.example``)."""
    bodies = [gzip.decompress(p.read_bytes()) for p in sorted((folder / "html").glob("*.html.gz"))]
    if not bodies:
        raise SystemExit(f"no html/*.html.gz in {folder}")
    if https:
        return {f"https://news{i % HTTPS_HOSTS}.example/news/{i}.html": bodies[i % len(bodies)] for i in range(count)}
    return {f"http://site{i % 97}.bench.test/news/{i}.html": bodies[i % len(bodies)] for i in range(count)}


HTTPS_HOSTS = 50


def make_ca(directory: Path, hosts) -> tuple[Path, Path, Path]:
    """A throwaway CA, and a certificate it signs for ``hosts``: (CA, cert,
    key) PEM files. A CA apart from the server's certificate, so that a client
    that verifies (trafilatura's urllib3) can trust it like any root."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench pages")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.DNSName(h) for h in sorted(set(hosts) | {"localhost"})]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return paths


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tunnel_host: str | None = None  # set on the TLS side of a CONNECT

    def log_message(self, *args):
        pass

    def do_CONNECT(self):
        """``CONNECT host:443``: TLS with the server's certificate, then the
        pages of ``https://host/...`` on that connection."""
        context = getattr(self.server, "tls_context", None)
        if context is None:
            self.send_error(405)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = context.wrap_socket(self.connection, server_side=True)
            type("TunnelHandler", (Handler,), {"tunnel_host": self.path.split(":")[0]})(
                tls, self.client_address, self.server)
        except (ssl.SSLError, OSError):
            pass
        self.close_connection = True

    def do_GET(self):
        url = f"https://{self.tunnel_host}{self.path}" if self.tunnel_host else self.path
        if url.startswith("https://") and not self.tunnel_host:
            self.send_error(400, "https:// only through CONNECT")  # never served in clear
            return
        body = self.server.pages.get(url)
        ctype = "text/html; charset=utf-8"
        encoded = self.server.gzipped.get(url)
        etag = self.server.etags.get(url)
        if etag and self.headers.get("If-None-Match") == etag:
            self.server.not_modified += 1
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        if body is None and url.endswith(IMAGE_TYPES) or body is None and "gtimg" in url:
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
    ``If-None-Match`` with 304 (counted in ``not_modified``). With ``tls``
    (certificate and key files), it answers ``CONNECT`` with TLS and serves
    the https:// pages on the tunnel."""

    def __init__(self, pages: dict[str, bytes], etags: dict[str, str] | None = None,
                 tls: tuple[Path, Path] | None = None):
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.tls_context = context
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


class ServerProcess:
    """A PageServer in a process of its own (forked), so that its CPU time is
    read apart from the crawl's and the peer's: ``cpu()``."""

    def __init__(self, pages: dict[str, bytes], tls: tuple[Path, Path] | None = None):
        context = multiprocessing.get_context("fork")
        ports, self._stop = context.Queue(), context.Event()
        self.process = context.Process(target=self._serve, args=(pages, tls, ports, self._stop), daemon=True)
        self.process.start()
        self.port = ports.get(timeout=120)

    @staticmethod
    def _serve(pages, tls, ports, stop) -> None:
        server = PageServer(pages, tls=tls)
        ports.put(server.server.server_address[1])
        stop.wait()
        server.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu(self) -> float:
        return snapshot(self.process.pid).get(self.process.pid, (0, 0.0))[1]

    def stop(self) -> None:
        self._stop.set()
        self.process.join(10)


def server_ceiling(server: PageServer, urls: list[str]) -> float:
    """Pages/s the server gives a 32-thread client in another process."""
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(_fetch_all, (server.server.server_address[1], urls, 32))


# --- the two measures ----------------------------------------------------------------

def extraction_alone(pages: dict[str, bytes], cpu: list | None = None) -> float:
    """Pages/s of extract_page in this one process, the crawl's own decoding;
    its CPU seconds are appended to ``cpu`` when given."""
    from scrapy.http import HtmlResponse

    from crawler.extraction.pool import extract_page

    started, cpu_started = time.perf_counter(), time.process_time()
    for url, body in pages.items():
        response = HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"})
        extract_page(response.url, response.text, response.body, response.encoding)
    if cpu is not None:
        cpu.append(time.process_time() - cpu_started)
    return len(pages) / (time.perf_counter() - started)


def trafilatura_cli(pages: dict[str, bytes], server: ServerProcess, ca: Path) -> dict:
    """trafilatura's CLI on the same URLs through the same proxy, 2 in
    parallel, Markdown with metadata, every download kept (``--backup-dir``),
    no sleep between requests to a host (bench/trafilatura_peer.py)."""
    with tempfile.TemporaryDirectory() as tmp:
        urls, config = Path(tmp) / "urls.txt", Path(tmp) / "settings.cfg"
        urls.write_text("".join(f"{u}\n" for u in pages), encoding="utf-8")
        import trafilatura

        text = (Path(trafilatura.__file__).parent / "settings.cfg").read_text()
        text = text.replace("SLEEP_TIME = 5.0", "SLEEP_TIME = 0").replace("SSRF_PROTECTION = on", "SSRF_PROTECTION = off")
        config.write_text(text)
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(https_proxy=server.url, SSL_CERT_FILE=str(ca), REQUESTS_CA_BUNDLE=str(ca))
        cmd = [sys.executable, str(ROOT / "bench" / "trafilatura_peer.py"), "-i", str(urls), "--parallel", "2",
               "--markdown", "--with-metadata", "--config-file", str(config),
               "--backup-dir", str(Path(tmp) / "backup"), "-o", str(Path(tmp) / "out")]
        server_cpu = server.cpu()
        started = time.monotonic()
        proc, sampler = run_sampled(cmd, env)
        elapsed = time.monotonic() - started
        out = [p for p in (Path(tmp) / "out").rglob("*") if p.is_file()] if (Path(tmp) / "out").exists() else []
        backup = [p for p in (Path(tmp) / "backup").rglob("*") if p.is_file()] if (Path(tmp) / "backup").exists() else []
    return {"seconds": elapsed, "rate": len(pages) / elapsed, "extracted": len(out), "downloaded": len(backup),
            "cpu": sampler.cpu_main + sampler.cpu_children, "server_cpu": server.cpu() - server_cpu,
            "exit": proc.returncode, "log": getattr(proc, "log", "")}


def run_sampled(cmd: list[str], env: dict):
    """Run ``cmd`` to its end, sampling its process tree's memory and CPU;
    (the finished process, its stderr as ``.log``; the sampler)."""
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(proc.pid)
    reader = threading.Thread(target=lambda: setattr(proc, "log", proc.stderr.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        sampler.sample()
        time.sleep(0.05)
    reader.join()
    return proc, sampler


def crawl(pages: dict[str, bytes], server, images: bool, extra: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        seeds = Path(tmp) / "seeds"
        seeds.mkdir()
        (seeds / "all.md").write_text("".join(f"- [p]({u})\n" for u in pages), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        env.update(http_proxy=server.url, https_proxy=server.url)
        server_cpu = server.cpu() if hasattr(server, "cpu") else 0.0
        settings = {"DOWNLOAD_DELAY": 0, "CONCURRENT_REQUESTS": 32, "CONCURRENT_REQUESTS_PER_DOMAIN": 32,
                    "ARCHIVE_IMAGES": images, "RETRY_TIMES": 0, "LOG_LEVEL": "WARNING", **extra}
        cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-a", f"seeds={seeds}",
               "-s", f"ARCHIVE_DIR={Path(tmp) / 'archive'}"]
        for key, value in settings.items():
            cmd += ["-s", f"{key}={value}"]
        started = time.monotonic()
        proc, sampler = run_sampled(cmd, env)
        elapsed = time.monotonic() - started
        archived = len(list((Path(tmp) / "archive" / "articles").rglob("*.md")))
        warc = sum(p.stat().st_size for p in (Path(tmp) / "archive" / "warc").glob("*.warc.gz"))
    return {"seconds": elapsed, "rate": len(pages) / elapsed, "archived": archived, "exit": proc.returncode,
            "peak_main": sampler.peak_main, "peak_tree": sampler.peak_tree, "peak_pss": sampler.peak_pss,
            "cpu_main": sampler.cpu_main,
            "cpu_workers": sampler.cpu_children, "warc": warc, "log": getattr(proc, "log", ""),
            "server_cpu": server.cpu() - server_cpu if hasattr(server, "cpu") else 0.0}


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"machine: nproc {os.cpu_count()} ({model}), "
            f"{os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, "
            f"Python {platform.python_version()}")


def main_https(args, extra: dict) -> None:
    """What users see: HTTPS through a CONNECT proxy, many hosts, the real
    pages; CPU per process tree; trafilatura's CLI on the same pages."""
    import trafilatura

    print(machine())
    print(f"pages: real news pages from {args.data}, https:// on {HTTPS_HOSTS} hosts through a CONNECT proxy"
          f" (TLS, a throwaway CA) on 127.0.0.1, in a process of its own; trafilatura {trafilatura.__version__}")
    for size in args.sizes:
        pages = real_pages(args.data, size, https=True)
        with tempfile.TemporaryDirectory() as tmp:
            ca, cert, key = make_ca(Path(tmp), {urlsplit(u).hostname for u in pages})
            server = ServerProcess(pages, tls=(cert, key))
            try:
                sample = dict(list(pages.items())[:1000])
                cpu_alone: list[float] = []
                before = extraction_alone(sample, cpu_alone)
                run = crawl(pages, server, images=False, extra=extra)
                peer = trafilatura_cli(pages, server, ca)
                after = extraction_alone(sample, cpu_alone)
            finally:
                server.stop()
        alone = (before + after) / 2
        alone_ms = 1000 * sum(cpu_alone) / (2 * len(sample))
        main_ms, workers_ms = 1000 * run["cpu_main"] / size, 1000 * run["cpu_workers"] / size
        crawl_ms = main_ms + workers_ms
        peer_ms = 1000 * peer["cpu"] / size
        print(f"\n{size} pages")
        if run["archived"] != size:
            print(f"  note: crawl archived {run['archived']} of {size} (exit {run['exit']}): {run['log'][-500:]}")
        if peer["extracted"] != size:
            print(f"  note: trafilatura CLI wrote {peer['extracted']} of {size}, downloaded {peer['downloaded']}"
                  f" (exit {peer['exit']}): {peer['log'][-500:]}")
        print(f"  crawl (scrapy crawl qq, images off): {run['rate']:.1f} pages/s ({run['seconds']:.1f} s),"
              f" {run['archived']} archived;"
              f" CPU {crawl_ms:.1f} ms/page = crawl process {main_ms:.1f} + extraction workers {workers_ms:.1f};"
              f" page server {1000 * run['server_cpu'] / size:.1f} ms/page apart")
        print(f"  peak memory of the crawl: crawl process RSS {run['peak_main'] / 2**20:.0f} MiB;"
              f" whole tree (crawl, workers, forkserver) PSS {run['peak_pss'] / 2**20:.0f} MiB,"
              f" sum of RSS {run['peak_tree'] / 2**20:.0f} MiB")
        print(f"  extraction alone, 1 core: {alone:.1f} pages/s, {alone_ms:.1f} ms CPU/page"
              f" (before {before:.1f} / after {after:.1f} pages/s, first {len(sample)} pages)")
        print(f"  trafilatura CLI (--parallel 2 --markdown --with-metadata --backup-dir):"
              f" {peer['rate']:.1f} pages/s ({peer['seconds']:.1f} s), {peer['extracted']} written;"
              f" CPU {peer_ms:.1f} ms/page; page server {1000 * peer['server_cpu'] / size:.1f} ms/page apart")
        print(f"  ratios: crawl CPU/page / extraction alone {crawl_ms / alone_ms:.2f};"
              f" crawl pages/s / trafilatura CLI {run['rate'] / peer['rate']:.2f};"
              f" crawl pages/s / 1 core of extraction {run['rate'] / alone:.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--data", type=Path, help="article-extraction-benchmark folder (real pages)")
    parser.add_argument("--https", action="store_true",
                        help="HTTPS through a CONNECT proxy on many hosts, the real pages (--data), CPU per process"
                             " tree, and trafilatura's CLI on the same pages")
    parser.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                        help="extra crawl settings")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.settings)
    if args.https:
        if not args.data:
            parser.error("--https needs --data (the benchmark's real pages)")
        main_https(args, extra)
        return
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
