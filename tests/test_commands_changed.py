"""An article that changed, as a newcomer meets it (issue 25): one word ("changed") in the log,
the summary and the stats; counts in the right number and a title edit named with its old and new
values; a crawl summary whose "fetched" agrees with the WARC; a site that works opened from disk,
with edited articles marked and a recent-changes page; a WACZ that lists the earlier capture.

Every command runs as a subprocess (``scrapy crawl``, ``history``, ``hugo``, ``wacz``) against
the fixture web on 127.0.0.1: a first crawl of the three qq seeds, then a second one after the
publisher edited one article's title and a paragraph.
"""

from __future__ import annotations

import html.parser
import json
import re
import shutil
import subprocess
import sys
import zipfile
from urllib.parse import unquote, urlsplit

import pytest
from warcio.archiveiterator import ArchiveIterator

from tests.conftest import ROOT, run_crawl, run_scrapy
from tests.fixtures.qq_site import build_site
from tests.fixtures.screenshot import screenshot
from tests.fixtures.server import FixtureProxy

EDITED = "20250210A05NRE00"
EDITED_URL = f"https://new.qq.com/rain/a/{EDITED}"
OLD_TITLE, NEW_TITLE = "你可以期待中国做出许多伟大的事", "中国会做出许多伟大的事"


def stat(log: str, key: str) -> int | None:
    found = re.search(rf"'{re.escape(key)}': (\d+)", log)
    return int(found[1]) if found else None


@pytest.fixture(scope="module")
def edited(fixture_web, tmp_path_factory):
    """(archive, the second crawl's result): the edit archived as a new version."""
    folder = tmp_path_factory.mktemp("changed")
    seeds = folder / "seeds"
    seeds.mkdir()
    for name in ("000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt", "004_0f7ec6953a63be2f.txt"):
        shutil.copy(ROOT / "seeds" / name, seeds)
    archive = folder / "archive"
    first = run_crawl(archive, fixture_web.url, seeds=seeds)
    assert first.returncode == 0, first.log[-3000:]
    pages = build_site()
    page = pages[EDITED_URL]
    page.body = page.body.replace(OLD_TITLE.encode(), NEW_TITLE.encode()) \
        .replace("值得注意的是".encode(), "更正：值得注意的是".encode())
    web = FixtureProxy(pages).start()
    try:
        second = run_crawl(archive, web.url, seeds=seeds)
    finally:
        web.stop()
    assert second.returncode == 0, second.log[-3000:]
    return archive, second


# --- one word: changed --------------------------------------------------------------------------

def test_a_new_version_is_changed_in_the_log_the_stats_and_the_summary(edited):
    archive, second = edited
    assert re.search(rf"\] INFO: changed: {re.escape(EDITED_URL)} -> articles/qq/{EDITED}\.md$", second.log, re.M)
    assert "updated" not in second.log, [line for line in second.log.splitlines() if "updated" in line]
    assert stat(second.log, "archive/changed") == 1
    assert re.search(r"^  archived:   0 new, 1 changed$", second.log, re.M), second.log[-2000:]
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [e["event"] for e in events].count("changed") == 1  # the change log's word, as it was


# --- counts in words, a title edit named -----------------------------------------------------------

def test_history_names_the_title_edit_with_old_and_new_and_counts_in_the_right_number(edited, tmp_path):
    archive, _ = edited
    proc = run_scrapy(["history", EDITED], archive, None)
    assert proc.returncode == 0, proc.log[-3000:]
    change = next(line.strip() for line in proc.log.splitlines() if "paragraph" in line)
    assert change.startswith("1 paragraph changed (+3/-0 characters)"), change
    assert f"title: “马斯克谈DeepSeek：{OLD_TITLE}，这只是其中之一” → “马斯克谈DeepSeek：{NEW_TITLE}，这只是其中之一”" \
        in change, change
    assert "front matter changed" not in proc.log and "paragraphs changed" not in proc.log


# --- fetched agrees with the WARC; the browser's proxy counts mean something ---------------------------

def test_fetched_counts_every_response_in_the_warc_browser_fetches_included(full_crawl):
    """The full seed list has a page only a browser renders (x.com): its scripts, XHR and
    images go into the WARC beside the downloader's responses."""
    assert full_crawl.returncode == 0, full_crawl.log[-3000:]
    responses = 0
    for path in (full_crawl.archive / "warc").glob("*.warc.gz"):
        with path.open("rb") as handle:
            responses += sum(1 for record in ArchiveIterator(handle) if record.rec_type == "response")
    by_browser = stat(full_crawl.log, "browser/responses")
    assert by_browser, "the browser fetched nothing: the test no longer covers it"
    fetched = re.search(r"^  fetched:    (\d+) responses \((\d+) images, (\d+) by the browser for its pages\)$",
                        full_crawl.log, re.M)
    assert fetched, full_crawl.log[-2000:]
    assert int(fetched[1]) == responses and int(fetched[3]) == by_browser
    # the browser's first request meets the proxy's 407 challenge on every run: not an error
    assert stat(full_crawl.log, "browser/proxy_challenged") and stat(full_crawl.log, "browser/proxy_unauthorized") is None
    for key, said in (("browser/proxy_errors", " not fetched: "), ("browser/blocked", "browser: blocked ")):
        assert not stat(full_crawl.log, key) or said in full_crawl.log, key  # a count comes with its lines


# --- the site, opened from disk ------------------------------------------------------------------

class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("href", "src") and value]


@pytest.fixture(scope="module")
def site(edited):
    archive, _ = edited
    proc = run_scrapy(["hugo"], archive, None, timeout=300)
    assert proc.returncode == 0, proc.log[-3000:]
    return archive / "site" / "public"


def test_every_link_of_the_site_is_relative_and_opens_a_file_from_disk(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    checked = 0
    for page in pages:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data") or not (parts.path or parts.scheme):
                continue  # the publisher's or the replay tool's address, an anchor on the page
            assert not parts.scheme and not link.startswith("/"), (page, link)
            target = (page.parent / unquote(parts.path)).resolve()
            assert target.is_file(), (page.relative_to(site), link)  # a folder would be a listing
            checked += 1
    assert checked > 50


def test_the_index_marks_the_edited_article_and_links_recent_changes(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    edited = re.findall(r'<li>.*?</li>', index, re.S)
    marked = [item for item in edited if 'class="edited"' in item]
    assert len(marked) == 1 and f"qq/{EDITED}/index.html" in marked[0], marked
    link = re.search(r'<a class="changes" href="([^"]+)">Recent changes</a>', index)
    assert link and link[1] == "./changes/index.html", index[:3000]
    changes = (site / "changes" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<li>(.*?)</li>", changes.split('<ul class="changes">')[1], re.S)
    assert len(rows) == 1 and NEW_TITLE in rows[0] and "1 paragraph changed" in rows[0], rows
    diff = re.search(r'class="diff" href="([^"]+)"', rows[0])[1]
    diff_page = (site / "changes" / unquote(diff)).resolve().read_text(encoding="utf-8")
    back = re.search(r'<p class="back"><a href="([^"]+)">', diff_page)[1]
    assert back.endswith(f"qq/{EDITED}/index.html") and "<h1>" in diff_page
    assert "Recent changes" not in index.split("<main>")[1].split("</p>")[1]  # not an article in the list


def test_recent_changes_are_newest_first():
    from crawler.exports.hugo import recent_changes

    entry = lambda title, *ats: {"title": title, "page": f"{title}/", "versions": [  # noqa: E731
        {"changed_at": at, "changed": at, "summary": "", "diff": None} for at in ats]}
    rows = recent_changes({"a.md": entry("a", "2025-01-01T00:00:00Z", "2025-03-01T00:00:00Z"),
                           "b.md": entry("b", "2025-02-01T00:00:00Z")})
    assert [(r["title"], r["at"][:7]) for r in rows] == [("a", "2025-03"), ("b", "2025-02"), ("a", "2025-01")]


def test_a_screenshot_of_the_site_opened_from_disk(site, tmp_path):
    """Chromium opens index.html as a file: styled (the style sheet loads), the mark shown."""
    target, stderr = screenshot((site / "index.html").as_uri(), "hugo-from-disk.png", tmp_path)
    assert target.is_file() and target.stat().st_size > 20_000, stderr[-2000:]


# --- the WACZ ------------------------------------------------------------------------------------

def test_the_wacz_lists_the_earlier_capture_and_says_how_to_open_it(edited, tmp_path):
    archive, _ = edited
    output = tmp_path / "archive.wacz"
    proc = subprocess.run([sys.executable, "-m", "scrapy", "wacz", "--archive", str(archive), "--output", str(output)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("to open it: https://replayweb.page/ → Choose File → ") and str(output) in last, last
    with zipfile.ZipFile(output) as package:
        lines = package.read("pages/pages.jsonl").decode("utf-8").splitlines()
    pages = [json.loads(line) for line in lines[1:]]
    captures = sorted((p for p in pages if p["url"] == EDITED_URL), key=lambda p: p["ts"])
    assert len(captures) == 2 and captures[0]["ts"] < captures[1]["ts"], captures
    version = next((archive / "versions" / "qq" / EDITED).glob("*.md")).read_text(encoding="utf-8")
    assert f'warc_date: "{captures[0]["ts"]}"' in version
    assert OLD_TITLE in captures[0]["title"] and NEW_TITLE in captures[1]["title"]
    assert "更正" not in captures[0]["text"] and "更正" in captures[1]["text"]
    assert len({p["id"] for p in pages}) == len(pages)
