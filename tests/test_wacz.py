"""WACZ: ``scrapy wacz``, the end-of-run option, and ReplayWeb.page opening the package.

One crawl of the three qq seeds through the fixture web, with WACZ_ON_CLOSE
on, makes a real archive and its WACZ. A second WARC file then adds
revisits of two articles as a refresh writes them (crawler/warc/revisit.py):
an identical-payload-digest one and a server-not-modified one, both
referring to the crawl's responses in the older file. Packed alone, that
file must bring the older one along.

The browser test serves the packages, ReplayWeb.page (the ``replaywebpage``
npm package's prebuilt ``ui.js`` and ``sw.js``) and one embedding page per
view from 127.0.0.1, and drives Debian's Chromium with puppeteer-core
(tests/browser/). Both are installed by the test into ``build/browser``
(npm ci, npm pack), never into the repository. Screenshots go to
``build/screenshots/wacz-*.png``.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, Request, Response
from scrapy.utils.test import get_crawler
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import iso_date_to_timestamp
from warcio.warcwriter import WARCWriter

from crawler import settings as project_settings
from crawler.archive.lock import archive_lock
from crawler.core import markdown
from crawler.exports import wacz
from crawler.extensions.waczexport import WaczExport
from crawler.state.open import open_store
from crawler.warc.records import request_record
from crawler.warc.revisit import identical_revisit_record, not_modified_records
from tests.conftest import ROOT, SEEDS, run_crawl

QQ_SEEDS = ("000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt", "004_0f7ec6953a63be2f.txt")
IDENTICAL = "https://news.qq.com/rain/a/20250213A06E5300"  # seed 000, after its 301
NOT_MODIFIED = "https://new.qq.com/rain/a/20250210A05NRE00"  # seed 001
TITLE = "news-archive"  # WARC_IS_PART_OF
BROWSER_DIR = ROOT / "build" / "browser"
HARNESS = ROOT / "tests" / "browser"
SCREENSHOTS = ROOT / "build" / "screenshots"
NPM_TIMEOUT = 600
BROWSER_TIMEOUT = 300


# --- the archive ------------------------------------------------------------------

class ClockedWriter(WARCWriter):
    """A warcio writer whose records carry a chosen WARC-Date."""

    at = ""

    def curr_warc_date(self):
        return self.at


def _responses(path: Path) -> dict:
    """WARC-Record-ID -> (record headers, HTTP headers, stored payload) of the response records."""
    out = {}
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "response":
                out[record.rec_headers.get_header("WARC-Record-ID")] = (
                    record.rec_headers, record.http_headers, record.raw_stream.read())
    return out


def _original(rec_headers) -> dict:
    return {"uri": rec_headers.get_header("WARC-Target-URI"), "date": rec_headers.get_header("WARC-Date"),
            "record_id": rec_headers.get_header("WARC-Record-ID"),
            "payload_digest": rec_headers.get_header("WARC-Payload-Digest")}


def write_refresh_warc(root: Path, states: dict, when: datetime) -> Path:
    """A later WARC with what a refresh writes for two unchanged articles: the
    identical payload again (a revisit, no body) and a 304 to a conditional request."""
    crawl_warc = root / "warc" / states[IDENTICAL].warc_file
    responses = _responses(crawl_warc)
    at = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    path = root / "warc" / f"crawler-{when:%Y%m%d%H%M%S}000-00001-refresh.warc.gz"
    with open(path, "wb") as handle:
        writer = ClockedWriter(handle, gzip=True)
        writer.at = at

        rec_headers, http_headers, body = responses[states[IDENTICAL].warc_record_id]
        headers = [(name, value) for name, value in http_headers.headers if name.lower() != "date"]
        again = HtmlResponse(IDENTICAL, status=200, body=body, request=Request(IDENTICAL),
                             headers=headers + [("Date", format_datetime(when, usegmt=True))])
        revisit = identical_revisit_record(writer, again, _original(rec_headers))
        writer.write_record(revisit)
        writer.write_record(request_record(writer, again.request, revisit.rec_headers.get_header("WARC-Record-ID")))

        rec_headers, _, _ = responses[states[NOT_MODIFIED].warc_record_id]
        asked = Request(NOT_MODIFIED, headers={"If-Modified-Since": "Mon, 10 Feb 2025 08:00:00 GMT"})
        answer = Response(NOT_MODIFIED, status=304, request=asked,
                          headers={"Date": format_datetime(when, usegmt=True), "Server": "nginx"})
        records = not_modified_records(writer, answer, _original(rec_headers))
        for record in records:
            writer.write_record(record)
        writer.write_record(request_record(writer, asked, records[0].rec_headers.get_header("WARC-Record-ID")))
    return path


@pytest.fixture(scope="module")
def archive(fixture_web, tmp_path_factory):
    """A crawl of the three qq seeds with WACZ_ON_CLOSE, then a refresh WARC of revisits."""
    base = tmp_path_factory.mktemp("wacz")
    seeds = base / "seeds"
    seeds.mkdir()
    for name in QQ_SEEDS:
        (seeds / name).write_bytes((SEEDS / name).read_bytes())
    root = base / "archive"
    crawl = run_crawl(root, fixture_web.url, seeds=seeds,
                      settings={"WACZ_ON_CLOSE": "True", "WACZ_PATH": "wacz/on-close.wacz"})
    assert crawl.returncode == 0, crawl.log[-3000:]
    store = open_store(root)
    try:
        states = {s.url: s for s in store.all()}
    finally:
        store.close()
    assert {IDENTICAL, NOT_MODIFIED} <= set(states), sorted(states)
    crawl_warcs = wacz.closed_warcs(root)
    assert len(crawl_warcs) == 1
    original_date = datetime.strptime(states[IDENTICAL].warc_date, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    later = original_date + timedelta(days=7)
    refresh = write_refresh_warc(root, states, later)
    return SimpleNamespace(root=root, log=crawl.log, states=states, crawl_warc=crawl_warcs[0],
                           refresh_warc=refresh.name, later=later.strftime("%Y%m%d%H%M%S"))


@pytest.fixture(scope="module")
def packages(archive):
    """The whole archive, and the refresh WARC alone (which needs the crawl's)."""
    full = wacz.pack(archive.root, output=archive.root / "wacz" / "full.wacz", title=TITLE)
    refresh = wacz.pack(archive.root, output=archive.root / "wacz" / "refresh.wacz",
                        warcs=[archive.refresh_warc], title=TITLE)
    return SimpleNamespace(full=full, refresh=refresh)


def _entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as package:
        return {name: package.read(name) for name in package.namelist()}


def _pages(path: Path) -> list[dict]:
    return [json.loads(line) for line in _entries(path)["pages/pages.jsonl"].decode("utf-8").splitlines()]


def _cdx(path: Path) -> list[tuple[str, dict]]:
    """(14-digit time, fields) of every line of the package's index."""
    lines = gzip.decompress(_entries(path)["indexes/index.cdx.gz"]).decode("utf-8").splitlines()
    return [(line.split(" ", 2)[1], json.loads(line.split(" ", 2)[2])) for line in lines]


def _squash(text: str) -> str:
    return "".join(text.split())


# --- the package ---------------------------------------------------------------------

def test_article_text_is_the_body_without_markup():
    paragraphs = ["**财联社2月13日讯（编辑 史正丞）**北京时间周四午后，", "![图片](https://inews.gtimg.com/a/641)",
                  "第一行\n第二行 **加粗** 和 *星号* 与 [方括号]", "[qq](https://new.qq.com/rain/a/20250213A06E5300)"]
    assert wacz.article_text(paragraphs) == (
        "财联社2月13日讯（编辑 史正丞）北京时间周四午后，\n第一行\n第二行 加粗 和 *星号* 与 [方括号]")
    # a last paragraph that is not a bare source link is text
    assert wacz.article_text(["see [qq](https://x/) here"]) == "see [qq](https://x/) here"


def test_output_path(tmp_path):
    assert wacz.output_path(tmp_path) == tmp_path.resolve() / "wacz" / "archive.wacz"
    assert wacz.output_path(tmp_path, "out/a.wacz") == tmp_path.resolve() / "out" / "a.wacz"
    assert wacz.output_path(tmp_path, "/srv/a.wacz") == Path("/srv/a.wacz")
    with pytest.raises(ValueError):
        wacz.output_path(tmp_path, "../a.wacz")


def test_pages_list_every_article_from_the_archive_state(archive, packages):
    pages = _pages(packages.full.path)
    assert pages[0] == {"format": "json-pages-1.0", "id": "pages", "title": TITLE, "hasText": True}
    assert len(pages) - 1 == packages.full.pages == len(archive.states) == 3
    assert packages.full.pages_left_out == []
    responses = {(f["url"], ts) for ts, f in _cdx(packages.full.path) if f.get("mime") != "warc/revisit"}
    for page in pages[1:]:
        state = archive.states[page["url"]]
        meta, paragraphs = markdown.parse((archive.root / state.path).read_text(encoding="utf-8"))
        assert page["id"] == state.key
        assert page["ts"] == state.warc_date
        assert iso_date_to_timestamp(page["ts"]) == iso_date_to_timestamp(str(meta["warc_date"]))
        assert page["title"] == meta["title"] and page["title"]
        # the capture the page names is in the package
        assert (page["url"], iso_date_to_timestamp(page["ts"])) in responses
        # the body as text: every paragraph, no markup, no image lines, no source link
        assert page["text"] == wacz.article_text(paragraphs)
        assert len(page["text"]) > 200
        assert "**" not in page["text"] and "![" not in page["text"] and state.source_url not in page["text"]


def test_packages_hold_their_warcs_and_validate(archive, packages):
    for result in (packages.full, packages.refresh):
        names = set(_entries(result.path))
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl",
                "indexes/index.cdx.gz", "indexes/index.idx"} <= names
        assert {f"archive/{archive.crawl_warc}", f"archive/{archive.refresh_warc}"} <= names
        proc = subprocess.run([sys.executable, "-m", "wacz", "validate", "-f", str(result.path)],
                              capture_output=True, text=True, timeout=120)
        # py-wacz's CLI exits 0 either way: its verdict is on stdout
        assert "Validation succeeded, the passed WACZ is valid" in proc.stdout, proc.stdout + proc.stderr
    datapackage = json.loads(_entries(packages.full.path)["datapackage.json"])
    assert datapackage["title"] == TITLE
    # nothing but the packages is left in the output folder (no temporary files)
    assert sorted(p.name for p in (archive.root / "wacz").iterdir()) == ["full.wacz", "on-close.wacz", "refresh.wacz"]


def test_a_subset_brings_the_originals_of_its_revisits(archive, packages):
    result = packages.refresh
    assert result.originals_added == [archive.crawl_warc]
    assert result.warc_files == sorted([archive.crawl_warc, archive.refresh_warc])
    cdx = _cdx(result.path)
    for url in (IDENTICAL, NOT_MODIFIED):
        revisits = [(ts, f) for ts, f in cdx if f["url"] == url and f.get("mime") == "warc/revisit"]
        originals = [(ts, f) for ts, f in cdx if f["url"] == url and f.get("mime") != "warc/revisit"]
        assert [ts for ts, _ in revisits] == [archive.later]
        assert revisits[0][1]["filename"] == archive.refresh_warc
        assert [f["filename"] for _, f in originals] == [archive.crawl_warc]
        if url == IDENTICAL:
            assert (revisits[0][1]["status"], revisits[0][1]["digest"]) == ("200", originals[0][1]["digest"])
        else:  # no block: no status of its own, replay serves the original's
            assert "status" not in revisits[0][1]


def test_the_crawl_made_its_wacz_on_close(archive):
    path = archive.root / "wacz" / "on-close.wacz"
    assert "WACZ written: " + str(path) in archive.log
    assert len(_pages(path)) - 1 == 3
    assert set(_entries(path)) >= {f"archive/{archive.crawl_warc}"}


def _warc(path: Path, records) -> None:
    with open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for make in records:
            writer.write_record(make(writer))


def _response(url, date):
    def make(writer):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        return writer.create_warc_record(url, "response", payload=BytesIO(b"<p>hi</p>"), http_headers=http,
                                         warc_headers_dict={"WARC-Date": date})
    return make


def test_originals_are_found_by_record_id_or_by_uri_and_date(tmp_path):
    (tmp_path / "warc").mkdir()
    ids = {}

    def keep(make, name):
        def wrapped(writer):
            record = make(writer)
            ids[name] = record.rec_headers.get_header("WARC-Record-ID")
            return record
        return wrapped

    _warc(tmp_path / "warc" / "a.warc.gz", [keep(_response("https://x.test/1", "2025-01-01T00:00:00Z"), "one"),
                                            _response("https://x.test/2", "2025-01-01T00:00:01Z")])
    _warc(tmp_path / "warc" / "b.warc.gz", [_response("https://x.test/3", "2025-01-02T00:00:00Z")])

    def by_id(writer):  # the record id decides (the date given here matches no capture)
        return writer.create_revisit_record("https://x.test/1", "sha1:X", "https://x.test/1", "2024-12-31T00:00:00Z",
                                            warc_headers_dict={"WARC-Refers-To": ids["one"]})

    def by_uri_and_date(writer):  # no WARC-Refers-To: the target URI and date name the original
        return writer.create_revisit_record("https://x.test/2", "sha1:Y", "https://x.test/2", "2025-01-01T00:00:01Z")

    _warc(tmp_path / "warc" / "c.warc.gz", [by_id])
    _warc(tmp_path / "warc" / "d.warc.gz", [by_uri_and_date])
    assert wacz.with_originals(tmp_path, ["c.warc.gz"]) == (["a.warc.gz", "c.warc.gz"], ["a.warc.gz"])
    assert wacz.with_originals(tmp_path, ["d.warc.gz"]) == (["a.warc.gz", "d.warc.gz"], ["a.warc.gz"])
    assert wacz.with_originals(tmp_path, ["a.warc.gz", "b.warc.gz"]) == (["a.warc.gz", "b.warc.gz"], [])

    (tmp_path / "warc" / "a.warc.gz").unlink()
    with pytest.raises(wacz.WaczError, match=re.escape(ids["one"])):
        wacz.with_originals(tmp_path, ["c.warc.gz"])


def test_a_damaged_warc_is_refused(archive, tmp_path):
    copy = tmp_path / "archive"
    shutil.copytree(archive.root / "warc", copy / "warc")
    damaged = copy / "warc" / archive.crawl_warc
    with open(damaged, "r+b") as handle:
        handle.truncate(damaged.stat().st_size - 100)
    with pytest.raises(wacz.WaczError, match="damaged"):
        wacz.pack(copy, warcs=[archive.crawl_warc])
    assert not (copy / "wacz" / "archive.wacz").exists()


def test_a_failed_packing_keeps_the_previous_wacz_and_no_temporary_file(archive, tmp_path, monkeypatch):
    target = tmp_path / "out" / "a.wacz"
    first = wacz.pack(archive.root, output=target)
    before = target.read_bytes()
    assert first.path == target and first.size == len(before)

    def failing(cmd, **kwargs):
        Path(cmd[cmd.index("--output") + 1]).write_bytes(b"half a zip")
        return subprocess.CompletedProcess(cmd, 1, "", "Traceback: disk full")

    monkeypatch.setattr(wacz.subprocess, "run", failing)
    with pytest.raises(wacz.WaczError, match="disk full"):
        wacz.pack(archive.root, output=target)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == ["a.wacz"]


# --- the extension and the command ---------------------------------------------------

#: The project's defaults for what the extension reads.
PROJECT = {name: getattr(project_settings, name)
           for name in ("WACZ_ON_CLOSE", "WACZ_PATH", "WARC_ENABLED", "WARC_IS_PART_OF", "WARC_DESCRIPTION")}


def test_extension_is_off_by_default():
    with pytest.raises(NotConfigured):
        WaczExport.from_crawler(get_crawler(settings_dict=PROJECT))
    with pytest.raises(NotConfigured):
        WaczExport.from_crawler(get_crawler(settings_dict={**PROJECT, "WACZ_ON_CLOSE": True, "WARC_ENABLED": False}))


def test_extension_packs_when_the_engine_stops(archive, tmp_path):
    crawler = get_crawler(settings_dict={**PROJECT, "WACZ_ON_CLOSE": True, "ARCHIVE_DIR": str(archive.root),
                                         "WACZ_PATH": str(tmp_path / "end.wacz")})
    ext = WaczExport.from_crawler(crawler)
    ext.engine_stopped()
    stats = crawler.stats.get_stats()
    assert stats["wacz/pages"] == 3 and stats["wacz/warc_files"] == 2
    assert stats["wacz/bytes"] == (tmp_path / "end.wacz").stat().st_size
    assert "wacz/failed" not in stats
    assert _pages(tmp_path / "end.wacz")[0]["title"] == PROJECT["WARC_IS_PART_OF"]

    empty = get_crawler(settings_dict={**PROJECT, "WACZ_ON_CLOSE": True, "ARCHIVE_DIR": str(tmp_path / "empty")})
    WaczExport.from_crawler(empty).engine_stopped()
    assert empty.stats.get_value("wacz/failed") == 1
    assert not (tmp_path / "empty" / "wacz").exists()


def _scrapy(*args, timeout=120):
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run([sys.executable, "-m", "scrapy", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_command(archive, tmp_path):
    out = tmp_path / "cmd.wacz"
    proc = _scrapy("wacz", "--archive", str(archive.root), "--output", str(out), archive.refresh_warc)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"WACZ written: {out}" in proc.stdout
    assert f"added for the originals of revisits: {archive.crawl_warc}" in proc.stdout
    assert "pages:      3" in proc.stdout
    assert {f"archive/{archive.crawl_warc}", f"archive/{archive.refresh_warc}"} <= set(_entries(out))

    proc = _scrapy("wacz", "--archive", str(archive.root), "--output", str(tmp_path / "x.wacz"), "nosuch.warc.gz")
    assert proc.returncode == 1 and "nosuch.warc.gz: not a closed WARC file" in proc.stderr

    with archive_lock(archive.root, 0):
        proc = _scrapy("wacz", "--archive", str(archive.root), "--output", str(tmp_path / "y.wacz"),
                       "-s", "ARCHIVE_LOCK_TIMEOUT=0")
    assert proc.returncode == 75 and "in use by" in proc.stderr
    assert not (tmp_path / "y.wacz").exists()


# --- ReplayWeb.page in Chromium ------------------------------------------------------

def _run(cmd, cwd, timeout=NPM_TIMEOUT):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def ensure_harness() -> tuple[Path, Path]:
    """build/browser with puppeteer-core (npm ci from tests/browser's lock file) and
    ReplayWeb.page's ui.js and sw.js (npm pack); returns (harness script, RWP folder)."""
    npm = shutil.which("npm")
    assert npm, "npm is not installed (Debian: apt-get install nodejs npm)"
    BROWSER_DIR.mkdir(parents=True, exist_ok=True)
    cache = BROWSER_DIR / "npm-cache"
    lock = (HARNESS / "package-lock.json").read_bytes()
    stamp = BROWSER_DIR / "node_modules" / ".installed-lock"
    if not stamp.exists() or stamp.read_bytes() != lock:
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(HARNESS / name, BROWSER_DIR / name)
        _run([npm, "ci", "--no-audit", "--no-fund", "--cache", str(cache)], BROWSER_DIR)
        stamp.write_bytes(lock)
    shutil.copyfile(HARNESS / "replay.mjs", BROWSER_DIR / "replay.mjs")
    version = json.loads((HARNESS / "package.json").read_text())["config"]["replaywebpage"]
    rwp = BROWSER_DIR / f"replaywebpage-{version}"
    if not (rwp / "ui.js").exists() or not (rwp / "sw.js").exists():
        _run([npm, "pack", f"replaywebpage@{version}", "--pack-destination", str(BROWSER_DIR),
              "--cache", str(cache)], BROWSER_DIR)
        tgz = BROWSER_DIR / f"replaywebpage-{version}.tgz"
        rwp.mkdir(exist_ok=True)
        with tarfile.open(tgz) as package:
            for name in ("ui.js", "sw.js"):
                (rwp / name).write_bytes(package.extractfile(f"package/{name}").read())
        tgz.unlink()
    return BROWSER_DIR / "replay.mjs", rwp


class RangeHandler(SimpleHTTPRequestHandler):
    """Static files, with the single byte ranges ReplayWeb.page reads a WACZ by."""

    def send_head(self):
        path = self.translate_path(self.path)
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if not match or not os.path.isfile(path) or match.groups() == ("", ""):
            return super().send_head()
        size = os.path.getsize(path)
        first, last = match.groups()
        start = int(first) if first else max(size - int(last), 0)
        end = min(int(last), size - 1) if first and last else size - 1
        if start > end:
            self.send_error(416)
            return None
        with open(path, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start + 1)
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return BytesIO(data)

    def end_headers(self):
        if self.command != "GET" or "Range" not in self.headers:
            self.send_header("Accept-Ranges", "bytes")
        super().end_headers()

    def log_message(self, *args):
        pass


EMBED = """<!doctype html>
<html><head><meta charset="utf-8"><title>{name}</title><script src="/ui.js"></script>
<style>html, body {{ width: 100%; height: 100%; margin: 0 }}
replay-web-page {{ display: block; width: 100%; height: 100% }}</style></head>
<body><replay-web-page source="/{source}"{attrs}></replay-web-page></body></html>
"""


def search_word(archive, url: str) -> str:
    """A run of CJK characters from the body of ``url``'s article file (not its
    title) that no other article has: ReplayWeb.page's search (FlexSearch)
    matches whole runs between punctuation."""
    bodies = {}
    for state in archive.states.values():
        meta, paragraphs = markdown.parse((archive.root / state.path).read_text(encoding="utf-8"))
        bodies[state.url] = (str(meta["title"]), "\n".join(paragraphs))
    title, body = bodies[url]
    others = "".join(u + t + b for u, (t, b) in bodies.items() if u != url)
    for run in re.findall(r"[\u4e00-\u9fff]{4,12}", body):
        if run not in others and run not in title and re.search(rf"(?<!\w){run}(?!\w)", body):
            return run
    raise AssertionError(f"no word of its own in {url}")


def test_replaywebpage_replays_and_searches_the_wacz(archive, packages, tmp_path):
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    assert Path(chromium).exists(), "chromium is not installed (Debian: apt-get install chromium)"
    node = shutil.which("node")
    assert node, "node is not installed (Debian: apt-get install nodejs npm)"
    script, rwp = ensure_harness()

    site = tmp_path / "site"
    (site / "replay").mkdir(parents=True)
    shutil.copyfile(rwp / "ui.js", site / "ui.js")
    shutil.copyfile(rwp / "sw.js", site / "replay" / "sw.js")  # the default replayBase, ./replay/
    for result in (packages.full, packages.refresh):
        shutil.copyfile(result.path, site / result.path.name)
    # the control: the refresh WARC packed by py-wacz alone, without the originals
    subprocess.run([sys.executable, "-m", "wacz", "create", "-o", str(site / "alone.wacz"),
                    str(archive.root / "warc" / archive.refresh_warc)], check=True, capture_output=True, timeout=120)

    pages = _pages(packages.full.path)[1:]
    client_rendered = next(p for p in pages if p["url"] not in (IDENTICAL, NOT_MODIFIED))
    word = search_word(archive, client_rendered["url"])
    views = []
    for number, page in enumerate(pages):
        views.append({"name": f"article-{number}", "kind": "replay", "source": "full.wacz", "page_entry": page,
                      "attrs": {"url": page["url"], "ts": iso_date_to_timestamp(page["ts"])},
                      "ts": {iso_date_to_timestamp(page["ts"])}, "waitFor": [page["title"]]})
    views.append({"name": "search", "kind": "search", "source": "full.wacz", "attrs": {},
                  "listed": pages[0]["title"], "query": word, "waitFor": [client_rendered["title"]]})
    for name, url in (("revisit-identical", IDENTICAL), ("revisit-not-modified", NOT_MODIFIED)):
        page = next(p for p in pages if p["url"] == url)
        views.append({"name": name, "kind": "replay", "source": "refresh.wacz", "page_entry": page,
                      "attrs": {"url": url, "ts": archive.later},
                      "ts": {archive.later, iso_date_to_timestamp(page["ts"])}, "waitFor": [page["title"]]})
    views.append({"name": "revisit-without-original", "kind": "replay", "source": "alone.wacz",
                  "attrs": {"url": IDENTICAL, "ts": archive.later}, "waitFor": ["Original Archived Page Missing"]})

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for view in views:
            attrs = "".join(f' {k}="{html.escape(v)}"' for k, v in view["attrs"].items())
            (site / f"{view['name']}.html").write_text(
                EMBED.format(name=view["name"], source=view["source"], attrs=attrs), encoding="utf-8")
        job = {"chromium": chromium, "userDataDir": str(tmp_path / "profile"), "timeoutMs": 60000,
               "views": [{"name": v["name"], "kind": v["kind"], "page": f"{base}/{v['name']}.html",
                          "waitFor": v["waitFor"], "query": v.get("query"), "listed": v.get("listed"),
                          "screenshot": str(SCREENSHOTS / f"wacz-{v['name']}.png")} for v in views]}
        (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
        proc = subprocess.run([node, str(script), str(tmp_path / "job.json")], cwd=BROWSER_DIR, env=env,
                              capture_output=True, text=True, timeout=BROWSER_TIMEOUT)
    finally:
        server.shutdown()
        server.server_close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout)
    assert report["worker"] == "activated"  # ReplayWeb.page's service worker, before the views
    seen = {r["name"]: r for r in report["views"]}

    for view in views:
        result = seen[view["name"]]
        assert "error" not in result, json.dumps(result, ensure_ascii=False)[:4000]
        assert result["offsite"] == [], result["offsite"]
        assert (SCREENSHOTS / f"wacz-{view['name']}.png").stat().st_size > 10_000
        if "page_entry" not in view:
            continue
        page = view["page_entry"]
        # the capture asked for. ReplayWeb.page serves a revisit it has resolved
        # as its original, dated at the original's time.
        assert result["timestamp"] in view["ts"], result["href"]
        assert f"mp_/{page['url']}" in result["href"]
        shown = _squash(result["text"] + result["dataText"])
        assert _squash(page["title"]) in _squash(result["title"] + result["text"])
        for line in page["text"].splitlines():
            assert _squash(line) in shown, (view["name"], line)

    # ReplayWeb.page's search finds the article by a word of its text only
    found = seen["search"]["text"]
    assert client_rendered["title"] in found
    assert not [p["title"] for p in pages if p is not client_rendered and p["title"] in found]
    # the client-rendered article shows only its loading shell: its text is in window.DATA
    article = next(v for v in views if v.get("page_entry") is client_rendered)
    assert _squash(client_rendered["text"].splitlines()[-1]) not in _squash(seen[article["name"]]["text"])
