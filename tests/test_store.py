"""The capture state on its own: rebuilt from the archive, damaged files kept aside, read-only opens."""

from __future__ import annotations

import json
from io import BytesIO

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from crawler.state.model import FILENAME, GONE
from crawler.state.open import open_readonly, open_store
from tests.conftest import run_crawl

FIELDS = ("key", "path", "site", "source_url", "url", "warc_file", "warc_record_id", "warc_date", "warc_uri",
          "payload_digest", "etag", "last_modified", "text_digest", "status")


@pytest.fixture(scope="module")
def archive(fixture_web, tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    from tests.conftest import SEEDS

    for name in ("000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt", "004_0f7ec6953a63be2f.txt"):
        (folder / name).write_bytes((SEEDS / name).read_bytes())
    root = tmp_path_factory.mktemp("archive")
    assert run_crawl(root, fixture_web.url, seeds=folder).returncode == 0
    return root


def rows(store) -> dict:
    return {s.key: {f: getattr(s, f) for f in FIELDS} for s in store.all()}


def test_a_missing_state_is_rebuilt_the_same_from_articles_and_warcs(archive, tmp_path):
    with open_store(archive) as store:
        live = rows(store)
    assert len(live) == 3 and all(r["payload_digest"] and r["warc_record_id"] for r in live.values())
    copy = tmp_path / "copy"
    import shutil

    shutil.copytree(archive, copy)
    (copy / FILENAME).unlink()
    with open_store(copy) as rebuilt:
        assert rows(rebuilt) == live


def test_a_damaged_state_is_kept_aside_and_rebuilt(archive, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    for side in copy.glob(f"{FILENAME}-*"):
        side.unlink()
    (copy / FILENAME).write_bytes(b"not a database at all" * 100)
    with open_store(copy) as store:
        assert store.count() == 3
    aside = list(copy.glob(f"{FILENAME}.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"not a database")


def test_rebuild_names_the_capture_the_article_came_from_and_keeps_gone(archive, tmp_path):
    """A later capture of the same URL (one whose extraction was refused, say)
    is not the article's; the change log's last word on it (gone) stands."""
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(archive, copy)
    with open_store(copy) as store:
        before = {s.url: s for s in store.all()}
    url, state = next((u, s) for u, s in before.items() if "news.qq.com" in u)
    with open(copy / "warc" / "zz-later.warc.gz", "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(b"<html>refused</html>"),
                                                      http_headers=http))
    with open(copy / "changes.jsonl", "a") as log:
        log.write(json.dumps({"time": "2026-01-01T00:00:00Z", "event": "gone", "url": state.source_url,
                              "article": state.path, "reason": "HTTP 404"}) + "\n")
    (copy / FILENAME).unlink()
    for side in copy.glob(f"{FILENAME}-*"):
        side.unlink()
    with open_store(copy) as rebuilt:
        again = {s.url: s for s in rebuilt.all()}
    assert again[url].warc_record_id == state.warc_record_id
    assert again[url].payload_digest == state.payload_digest
    assert again[url].status == GONE and again[url].status_since == "2026-01-01T00:00:00Z"


def test_read_only_opens_never_create_or_rebuild(tmp_path):
    (tmp_path / "articles").mkdir()
    assert open_readonly(tmp_path) is None
    assert not (tmp_path / FILENAME).exists()
    (tmp_path / FILENAME).write_bytes(b"damaged")
    assert open_readonly(tmp_path) is None
    assert (tmp_path / FILENAME).read_bytes() == b"damaged"


def test_a_first_crawl_logs_every_article_it_archived(archive):
    """The state is opened before the first article is written: a rebuild in
    mid-crawl would take this crawl's first files for older ones and log no event."""
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text().splitlines()]
    archived = sorted(e["article"] for e in events if e["event"] == "archived")
    assert archived == sorted(p.relative_to(archive).as_posix() for p in (archive / "articles").rglob("*.md"))


def test_an_article_is_found_by_the_address_it_moved_to(tmp_path):
    """After a slug redirect the state's last address is the new one, and
    the front matter's fetched_url too: a person names the article by it."""
    from crawler.state.model import ArticleState
    from crawler.state.open import find
    from crawler.state.sqlite import StateStore

    from crawler import sites

    source = "https://city.example/2025/02/13/mayor-resigns/"
    store = StateStore(tmp_path / "s.sqlite3")
    store.put(ArticleState(key=sites.article_key(source), path="articles/city/a.md", site="city", title="t",
                           source_url=source,
                           url="https://city.example/2025/02/13/mayor-resigns-after-council-vote/"))
    for ref in ("https://city.example/2025/02/13/mayor-resigns/",
                "https://city.example/2025/02/13/mayor-resigns-after-council-vote/",
                "https://city.example/2025/02/13/mayor-resigns-after-council-vote/?utm_source=feed"):
        assert find(store, ref) is not None and find(store, ref).path == "articles/city/a.md", ref
    assert find(store, "https://city.example/2025/02/13/another-story/") is None
    store.close()
