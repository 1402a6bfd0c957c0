"""``kill -9`` in the middle of a crawl: what is on disk must stay usable.

A dedicated fixture web serves many slow reference pages and one that hangs,
so the crawl is still writing when it is killed. After the kill the ``.open``
WARC must read back up to its last complete record, closed WARCs must verify,
no Markdown file may be half-written, and a normal crawl into the same
archive must then complete and leave valid WARCs.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import frontmatter
import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import ROOT, run_crawl
from tests.fixtures.qq_site import PNG, REFERENCE_TEXT, Page, reference_page
from tests.fixtures.server import FixtureProxy
from tests.test_warc import assert_warcio_check_ok, gzip_members, read_records, warc_files

N_PAGES = 60
SLOW = 0.4       # seconds per ordinary page while the crawl is to be killed
HANG = 120       # the page that keeps the crawl from finishing
MAX_SIZE = 12000  # small WARCs, so that some are closed before the kill
SOURCE_LINE = r"^\[[\w.-]+\]\((https?://[^)\s]+)\)$"


@dataclass
class SlowPage(Page):
    wait: float = 0.0  # interruptible by SlowPages.fast (Page.delay is not)


class SlowPages(dict):
    """URL -> Page; ``get`` (called by the proxy's request thread) waits out a
    SlowPage's delay unless ``fast`` is set, which also wakes waiting pages."""

    def __init__(self, *args):
        super().__init__(*args)
        self.fast = threading.Event()

    def get(self, url, default=None):
        page = super().get(url, default)
        if isinstance(page, SlowPage) and page.wait:
            self.fast.wait(page.wait)
        return page


def kill_site() -> tuple[SlowPages, list[str], str]:
    pages = SlowPages()
    urls = []
    for i in range(N_PAGES):
        url = f"https://site{i % 5}.example-news.test/world/2025/story-{i:03d}.html"
        title = f"Story {i:03d}: markets weigh the artificial intelligence boom"
        pages[url] = SlowPage(body=reference_page(title, [f"{title}."] + REFERENCE_TEXT).encode(),
                              wait=SLOW)
        urls.append(url)
    hang = "https://slow.example-news.test/world/2025/the-page-that-hangs.html"
    pages[hang] = SlowPage(body=reference_page("The page that hangs", ["The page that hangs."] + REFERENCE_TEXT)
                           .encode(), wait=HANG)
    urls.insert(N_PAGES // 3, hang)
    pages["https://static.example-news.test/cover.jpg"] = Page(body=PNG, content_type="image/png")
    return pages, urls, hang


def crawl_command(seeds: Path, archive: Path, settings: dict) -> list[str]:
    """The command run_crawl (tests/conftest.py) runs."""
    cmd = [sys.executable, "-m", "scrapy", "crawl", "qq", "-L", "INFO", "-a", f"seeds={seeds}",
           "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0",
           "-s", "DOWNLOAD_TIMEOUT=20"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return cmd


def count_records(path: Path) -> int:
    """Complete records in a WARC being written (0 if unreadable right now)."""
    try:
        members, _ = gzip_members(path.read_bytes())
    except OSError:
        return 0
    return len(members)


def points_into(archive: Path, warc_name: str) -> bool:
    """Whether an article Markdown already names ``warc_name`` as its capture's file."""
    for path in (archive / "articles").rglob("*.md"):
        try:
            if f'warc_file: "{warc_name}"' in path.read_text(encoding="utf-8"):
                return True
        except OSError:
            pass
    return False


@dataclass
class KillRun:
    seeds: Path
    urls: list
    archive: Path
    snapshot: Path       # copy of the archive taken right after the kill
    open_file: Path      # the .open WARC in the snapshot
    log_after_kill: str
    recovery: object     # CrawlResult of the normal crawl after the kill


def kill_mid_crawl(base: Path, seeds: Path, proxy_url: str) -> tuple[Path, Path, Path | None, str]:
    """Start a crawl, SIGKILL it once an open WARC holds 6 records and an
    article points into it; (archive, snapshot of it, the snapshot's open
    WARC or None, the log)."""
    archive = base / "archive"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=proxy_url, https_proxy=proxy_url)
    log_path = base / "killed-crawl.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(crawl_command(seeds, archive, {"WARC_MAX_SIZE": MAX_SIZE}),
                                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            warc_dir = archive / "warc"
            while True:
                assert proc.poll() is None, f"crawl ended before the kill:\n{log_path.read_text()[-3000:]}"
                opened = list(warc_dir.glob("*.warc.gz.open")) if warc_dir.exists() else []
                closed = list(warc_dir.glob("*.warc.gz")) if warc_dir.exists() else []
                if closed and opened and count_records(opened[0]) >= 6 \
                        and points_into(archive, opened[0].name[:-len(".open")]):
                    break
                assert time.monotonic() < deadline, "the crawl wrote too little in 90 s (or no article points into the open WARC)"
                time.sleep(0.05)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    snapshot = base / "after-kill"
    shutil.copytree(archive, snapshot)
    opened = sorted((snapshot / "warc").glob("*.warc.gz.open"))
    # None when the kill landed just after a rotation closed a file and before
    # the next record opened another (the writer opens files as records come)
    assert len(opened) <= 1, [p.name for p in opened]
    return archive, snapshot, (opened[0] if opened else None), log_path.read_text(errors="replace")


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    pages, urls, hang = kill_site()
    proxy = FixtureProxy(pages).start()
    try:
        for attempt in range(3):
            base = tmp_path_factory.mktemp("kill")
            seeds = base / "seeds"
            seeds.mkdir()
            lines = "\n".join(f"- [Story {i}]({url})" for i, url in enumerate(urls))
            (seeds / "050_kill_note.md").write_text(
                f"---\ntitle: kill test\ntype: note\n---\n\n### References\n\n{lines}\n", encoding="utf-8")
            archive, snapshot, open_file, log = kill_mid_crawl(base, seeds, proxy.url)
            # A kill can land as the writer rotates: before the next .open
            # exists, or on a new .open that holds no whole record yet;
            # recovery leaves an empty one until it is stale (it may be a live
            # writer's reserved name: test_warc_writer). This test is about a
            # kill in the middle of a file: try again.
            if open_file is not None and count_records(open_file) > 0:
                break
        else:
            pytest.fail("three kills in a row landed on a WARC rotation")
        pages.fast.set()  # every page answers at once from now on
        recovery = run_crawl(archive, proxy.url, seeds=seeds, settings={"WARC_MAX_SIZE": MAX_SIZE}, timeout=120)
        yield KillRun(seeds, urls, archive, snapshot, open_file, log, recovery)
    finally:
        pages.fast.set()
        proxy.stop()


def test_open_warc_readable_after_kill(killed):
    data = killed.open_file.read_bytes()
    members, tail = gzip_members(data)
    assert len(members) >= 6, f"{len(members)} complete records in {killed.open_file.name}"

    # ArchiveIterator reads every complete record; an error is allowed only in a partial tail
    read, error = [], None
    with open(killed.open_file, "rb") as fh:
        it = ArchiveIterator(fh)
        try:
            for record in it:
                content = record.content_stream().read()
                read.append((it.get_record_offset(), record.rec_type,
                             record.rec_headers.get_header("WARC-Target-URI"), len(content)))
        except Exception as exc:  # noqa: BLE001 - reported below
            error = exc
    assert len(read) >= len(members), \
        f"only {len(read)} of {len(members)} complete records read: {error!r}"
    if error is not None:
        assert tail, f"reader failed inside the complete records: {error!r}"
    assert [r[0] for r in read[:len(members)]] == [m[0] for m in members]
    assert read[0][1] == "warcinfo"

    # every complete record verifies its digests
    with tempfile.TemporaryDirectory() as tmp:
        prefix = Path(tmp) / "complete.warc.gz"
        end = members[-1][0] + members[-1][1]
        prefix.write_bytes(data[:end])
        assert_warcio_check_ok(prefix)
        assert len(read_records(prefix)) == len(members)


def test_closed_warcs_valid_after_kill(killed):
    closed = warc_files(killed.snapshot)
    assert closed, "no WARC was closed before the kill"
    for path in closed:
        assert_warcio_check_ok(path)
        assert read_records(path)[0]["type"] == "warcinfo"


def _check_markdown(folder: Path) -> list[Path]:
    found = sorted((folder / "articles").rglob("*.md"))
    for path in found:
        text = path.read_text(encoding="utf-8")
        post = frontmatter.loads(text)
        assert post.metadata.get("title"), f"{path}: no front matter"
        last = post.content.strip("\n").splitlines()[-1]
        assert re.match(SOURCE_LINE, last), f"{path} is cut short: ends with {last[-80:]!r}"
    return found


def test_no_partial_markdown_after_kill(killed):
    found = _check_markdown(killed.snapshot)
    assert found, "no article was written before the kill"
    assert len(found) < len(killed.urls), "the crawl was not killed mid-way"


def test_crawl_after_kill_completes(killed):
    result = killed.recovery
    assert result.returncode == 0, result.log[-3000:]
    warc_dir = killed.archive / "warc"
    leftover = sorted(warc_dir.glob("*.open"))
    assert not leftover, f"files still open after a finished crawl: {[p.name for p in leftover]}"
    # the killed crawl's file was recovered: closed under its final name with
    # every complete record it had
    recovered = warc_dir / killed.open_file.name[: -len(".open")]
    assert recovered.exists(), "the .open file of the killed crawl was not recovered"
    members, tail = gzip_members(killed.open_file.read_bytes())
    assert recovered.read_bytes() == killed.open_file.read_bytes()[: members[-1][0] + members[-1][1]]
    assert "recovered after an unclean stop" in result.log
    before = {p.name for p in warc_files(killed.snapshot)}
    new = [p for p in warc_files(killed.archive) if p.name not in before]
    assert new, "the crawl after the kill wrote no WARC"
    for path in warc_files(killed.archive):
        assert_warcio_check_ok(path)
    responses = {r["uri"] for p in new for r in read_records(p) if r["type"] == "response" and r["status"] == 200}
    missing = [u for u in killed.urls if u not in responses]
    assert not missing, f"{len(missing)} seed URLs not captured after the kill, e.g. {missing[:3]}"
    found = _check_markdown(killed.archive)
    assert len(found) == len(killed.urls)
    index = (killed.archive / "index.cdxj").read_text()
    assert all(u in index for u in killed.urls)


def test_markdown_warc_pointers_after_kill(killed):
    """After the kill and a normal crawl, every article's warc_file/warc_record_id
    must name a WARC file that exists under that name and holds the record."""
    broken = []
    for path in sorted((killed.archive / "articles").rglob("*.md")):
        meta = frontmatter.load(path).metadata
        warc = killed.archive / "warc" / meta["warc_file"]
        if not warc.exists():
            broken.append((path.name, meta["warc_file"], "missing"))
            continue
        ids = {r["id"] for r in read_records(warc)}
        if meta["warc_record_id"] not in ids:
            broken.append((path.name, meta["warc_file"], "record not found"))
    assert not broken, f"{len(broken)} articles point to captures that cannot be found, e.g. {broken[:3]}"
