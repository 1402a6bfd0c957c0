"""History an archivist can trust: an edit is a change, never a disappearance.

Real ``scrapy refresh`` and ``scrapy crawl`` subprocesses over a fixture web
(a forward proxy on 127.0.0.1) whose news site edits a headline and moves
the article to a new slug with a 301, as WordPress does; sends deleted
articles to the front page or to another story; and gives one article two
share links.
"""

from __future__ import annotations

import json

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.exports.alerts import summary_line
from crawler.sites import identity
from crawler.state.open import open_store
from tests.conftest import crawled, run_crawl, run_scrapy
from tests.fixtures.qq_site import Page, reference_page
from tests.fixtures.server import FixtureProxy

HOST = "https://city.example"
STORY = ["The mayor announced her resignation on Thursday evening after eleven years in office.",
         "She told reporters that the council's vote on the budget had made her position untenable.",
         "Her deputy will lead the city until an election is held, probably in the autumn.",
         "Opposition councillors said the resignation was overdue and called for a public inquiry."]
OTHER = ["The tram line to the airport will open six months late, the transport authority said.",
         "Contractors blamed a shortage of steel and a dispute over the signalling system.",
         "Passengers will keep using the shuttle buses until the line opens next summer.",
         "The authority said the cost of the delay would be borne by the contractors."]


def page(title: str, text: list[str]) -> Page:
    return Page(body=reference_page(title, [f"{title}."] + list(text)).encode())


def url(path: str) -> str:
    return f"{HOST}/2025/02/13/{path}/"


def events(archive):
    path = archive / "changes.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def text_records(archive) -> list[str]:
    found = []
    for warc in sorted((archive / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as handle:
            for record in ArchiveIterator(handle):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "resource" and uri.startswith("urn:markdown:"):
                    found.append(uri)
    return found


@pytest.fixture()
def site(tmp_path):
    pages = {url("mayor-resigns"): page("Mayor resigns", STORY),
             url("tram-delayed"): page("Tram line delayed", OTHER),
             f"{HOST}/": page("City news", ["The latest from the city hall, updated all day long."] * 3)}
    proxy = FixtureProxy(pages).start()
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "note.md").write_text(f"- [mayor]({url('mayor-resigns')})\n", encoding="utf-8")
    yield proxy, pages, seeds
    proxy.stop()


def headline_edit(pages):
    """A new headline, one corrected paragraph, and the old slug answers 301."""
    corrected = [STORY[0].replace("eleven", "twelve"), *STORY[1:]]
    pages[url("mayor-resigns")] = Page(status=301, headers=[("Location", url("mayor-resigns-after-council-vote"))])
    pages[url("mayor-resigns-after-council-vote")] = page("Mayor resigns after council vote", corrected)


def edited_and_refreshed(site, tmp_path):
    """A first crawl, the headline edit (headline_edit), and the refresh that records it:
    (archive, proxy, pages, seeds)."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    headline_edit(pages)
    assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0
    return archive, proxy, pages, seeds


@pytest.mark.parametrize("command", [["refresh"], ["crawl", "qq"]])
def test_a_headline_edit_with_a_slug_redirect_is_a_change(site, tmp_path, command):
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    files = sorted((archive / "articles").rglob("*.md"))
    assert len(files) == 1
    headline_edit(pages)
    args = command + (["-a", f"seeds={seeds}"] if command[0] == "crawl" else [])
    result = run_scrapy(args, archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert "gone: " + url("mayor-resigns") not in result.log and "redirected away" not in result.log
    assert sorted((archive / "articles").rglob("*.md")) == files  # one file, not a fork
    text = files[0].read_text(encoding="utf-8")
    assert "twelve years" in text and 'title: "Mayor resigns after council vote"' in text
    versions = list((archive / "versions").rglob("*.md"))
    assert len(versions) == 1 and "eleven years" in versions[0].read_text(encoding="utf-8")
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]
    assert events(archive)[-1]["cause"] == "page"  # the stored copy's own page, read again, gives its text
    with open_store(archive) as store:
        (state,) = list(store.all())
        assert state.status == "ok" and state.url == url("mayor-resigns-after-council-vote")
        assert state.source_url == url("mayor-resigns")


@pytest.mark.parametrize("target", ["front", "other"])
def test_a_redirect_to_the_front_page_or_another_story_is_still_gone(site, tmp_path, target):
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    before = sorted(p.read_bytes() for p in (archive / "articles").rglob("*.md"))
    where = f"{HOST}/" if target == "front" else url("tram-delayed")
    pages[url("mayor-resigns")] = Page(status=301, headers=[("Location", where)])
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert f"gone: {url('mayor-resigns')}: redirected away to {where}" in result.log
    assert sorted(p.read_bytes() for p in (archive / "articles").rglob("*.md")) == before
    assert not (archive / "versions").exists()
    assert [e["event"] for e in events(archive)] == ["archived", "gone"]


def test_the_same_article_rule():
    stored = identity.Stored(urls=[url("mayor-resigns")], title="Mayor resigns", paragraphs=STORY)
    corrected = [STORY[0].replace("eleven", "twelve"), *STORY[1:]]
    moved = url("mayor-resigns-after-council-vote")
    assert identity.not_the_article(url("mayor-resigns"), moved, stored, title="Mayor resigns after council vote",
                                    paragraphs=corrected) is None
    # another story at an article address: the body says so, whatever the address
    assert "another article" in identity.not_the_article(url("mayor-resigns"), url("tram-delayed"), stored,
                                                         title="Tram line delayed", paragraphs=OTHER)
    # a new address whose page names the old one as canonical
    assert identity.not_the_article(url("mayor-resigns"), moved, stored, canonical=url("mayor-resigns"),
                                    title="x", paragraphs=["y"]) is None
    # the front page and a section above the article never are the article
    assert identity.not_the_article(url("mayor-resigns"), f"{HOST}/", stored, title="Mayor resigns",
                                    paragraphs=STORY) == "the site's front page or a section page"
    assert identity.not_the_article(url("mayor-resigns"), f"{HOST}/2025/", None) is not None
    # a first capture: an article address is taken
    assert identity.not_the_article(url("mayor-resigns"), moved, None) is None
    # Chinese text: shingles of characters, no spaces needed
    zh = ["市长周四晚间宣布辞职，她已在任十一年。", "她对记者说，议会对预算的表决使她无法继续任职。"]
    zh_fixed = ["市长周四晚间宣布辞职，她已在任十二年。", zh[1]]
    assert identity.shared_text(zh, zh_fixed) > 0.5
    # the site's own ids decide where there are some
    qq = "https://new.qq.com/rain/a/20250213A06E5300"
    assert identity.not_the_article(qq, "https://news.qq.com/rain/a/20250213A06E5300") is None
    assert identity.not_the_article(qq, "https://news.qq.com/rain/a/20250213A06E5301") == "another article id"


def test_two_share_links_of_one_qq_article_are_one_article_on_every_crawl(tmp_path):
    from tests.conftest import SEEDS
    from tests.fixtures.qq_site import build_site, read_seed

    article = read_seed("004_0f7ec6953a63be2f.txt")  # its page data names its id (cms_id)
    share = f"https://view.inews.qq.com/wxn/{article.article_id}"  # a share link the URL id rule does not read
    pages = build_site()
    pages[share] = pages[article.source_url]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "004.txt").write_bytes((SEEDS / "004_0f7ec6953a63be2f.txt").read_bytes())
    (seeds / "share.md").write_text(f"- [shared]({share})\n", encoding="utf-8")
    archive = tmp_path / "archive"
    share_only = tmp_path / "share-only"  # the share link archived first: its link is the article's
    share_only.mkdir()
    (share_only / "share.md").write_text(f"- [shared]({share})\n", encoding="utf-8")
    proxy = FixtureProxy(pages).start()
    try:
        for folder in (share_only, seeds, seeds, seeds):
            result = run_crawl(archive, proxy.url, seeds=folder)
            assert result.returncode == 0, result.log[-3000:]
    finally:
        proxy.stop()
    assert [e["event"] for e in events(archive)] == ["archived"]
    assert len(text_records(archive)) == 1
    assert [p.name for p in (archive / "articles").rglob("*.md")] == [f"{article.article_id}.md"]
    with open_store(archive) as store:
        assert [s.path for s in store.all()] == [f"articles/qq/{article.article_id}.md"]


@pytest.mark.parametrize("command", [["refresh"], ["crawl", "qq"]])
def test_a_refresh_keeps_the_stored_file_and_key_whatever_today_derives(site, tmp_path, command):
    """A library upgrade or a domain move must not fork an article: the state's
    key and file are the article's identity."""
    import sqlite3

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    (old,) = (archive / "articles").rglob("*.md")
    # as an earlier library would have named it
    kept = archive / "articles" / "cityhall" / "mayor.md"
    kept.parent.mkdir()
    old.rename(kept)
    db = sqlite3.connect(archive / "state.sqlite3")
    with db:
        db.execute("UPDATE articles SET path=?, site='cityhall', key='legacy-key'",
                   ("articles/cityhall/mayor.md",))
    db.close()
    pages[url("mayor-resigns")] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    args = command + (["-a", f"seeds={seeds}"] if command[0] == "crawl" else [])
    result = run_scrapy(args, archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [p.relative_to(archive).as_posix() for p in (archive / "articles").rglob("*.md")] == [
        "articles/cityhall/mayor.md"]
    assert "twelve years" in kept.read_text(encoding="utf-8")
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]
    with open_store(archive) as store:
        assert [(s.key, s.path) for s in store.all()] == [("legacy-key", "articles/cityhall/mayor.md")]


def metadata_files(archive) -> list[str]:
    """The article file each WARC metadata record names (one per text record)."""
    found = []
    for warc in sorted((archive / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "metadata":
                    fields = dict(line.split(": ", 1) for line in
                                  record.content_stream().read().decode().splitlines() if ": " in line)
                    if "article-file" in fields:
                        found.append(fields["article-file"])
    return sorted(found)


def assert_recorded_once(archive):
    """Every article file: one archived event, one text record, and a state
    whose digest is the file's."""
    from crawler.core.digest import text_digest

    files = sorted(p.relative_to(archive).as_posix() for p in (archive / "articles").rglob("*.md"))
    assert files
    archived = sorted(e["article"] for e in events(archive) if e["event"] == "archived")
    assert archived == files, "each file's archived event, once"
    assert metadata_files(archive) == files, "each file's text record, once"
    with open_store(archive) as store:
        for path in files:
            state = store.by_path(path)
            assert state is not None and state.text_digest == text_digest((archive / path).read_text("utf-8"))


@pytest.mark.parametrize("order", [310, 450], ids=["before-text-record", "after-text-record"])
@pytest.mark.parametrize("delete_state", [True, False], ids=["state-deleted", "state-kept"])
def test_a_crawl_killed_mid_run_has_every_outcome_recorded_once_by_the_next(fixture_web, qq_seeds_dir, tmp_path,
                                                                            order, delete_state):
    from tests.fixtures.killpoint import pipelines_with_killpoint

    archive = tmp_path / "archive"
    killed = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir,
                       settings={"ITEM_PIPELINES": pipelines_with_killpoint(order), "KILLPOINT_AFTER": 2})
    assert killed.returncode == -9, killed.log[-2000:]
    written = list((archive / "articles").rglob("*.md"))
    assert written
    if delete_state:
        for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"):
            (archive / name).unlink(missing_ok=True)
    again = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir)
    assert again.returncode == 0, again.log[-3000:]
    assert "written but never recorded" in again.log
    assert_recorded_once(archive)
    third = run_crawl(archive, fixture_web.url, seeds=qq_seeds_dir)
    assert third.returncode == 0 and "never recorded" not in third.log
    assert_recorded_once(archive)


@pytest.fixture()
def qq_one(tmp_path):
    """One old-template qq article (answered on new.qq.com itself), with an ETag."""
    from tests.conftest import SEEDS
    from tests.fixtures.qq_site import build_site, read_seed

    article = read_seed("001_7e5bc8a25ec71449.txt")
    pages = build_site()
    page = pages[article.source_url]
    pages[article.source_url] = Page(body=page.body, headers=[("ETag", '"v1"')])
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "001.txt").write_bytes((SEEDS / "001_7e5bc8a25ec71449.txt").read_bytes())
    proxy = FixtureProxy(pages).start()
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    yield proxy, pages, article, archive
    proxy.stop()


def test_unreachable_then_404_on_the_other_host_is_a_failure_not_gone(qq_one):
    proxy, pages, article, archive = qq_one
    pages[article.source_url] = Page(body=b"late", delay=6)  # times out
    result = run_scrapy(["refresh"], archive, proxy.url, settings={"DOWNLOAD_TIMEOUT": 2})
    assert result.returncode == 1, result.log[-3000:]
    summary = result.log[result.log.index("refresh summary"):]
    assert "gone:       0" in summary and "failed:     1" in summary
    assert [e["event"] for e in events(archive)] == ["archived"]


def test_the_retry_on_the_other_qq_host_stays_conditional(qq_one):
    proxy, pages, article, archive = qq_one
    other = article.source_url.replace("new.qq.com", "news.qq.com")
    pages[other] = pages[article.source_url]
    pages[article.source_url] = Page(status=404)
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    asked = [headers for url_, headers in proxy.requests if url_ == other]
    assert asked and asked[-1].get("If-None-Match") == '"v1"'
    assert other in proxy.not_modified
    summary = result.log[result.log.index("refresh summary"):]
    assert "unchanged:  1" in summary


def response_records(archive, uri: str) -> list[str]:
    """The record types (response / revisit) captured for ``uri``, in order."""
    found = []
    for warc in sorted((archive / "warc").glob("*.warc.gz")):
        with open(warc, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type in ("response", "revisit") and \
                        record.rec_headers.get_header("WARC-Target-URI") == uri:
                    found.append((record.rec_headers.get_header("WARC-Date"), record.rec_type))
    return [kind for _, kind in sorted(found)]


def test_a_page_that_keeps_collapsing_is_stored_and_kept_aside_once(site, tmp_path):
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    good = pages[url("mayor-resigns")]
    pages[url("mayor-resigns")] = page("Mayor resigns", ["Subscribe to read the whole story, from 1 euro."])
    for _ in range(3):
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 1, result.log[-3000:]
    assert "refused again" in result.log
    assert len(list((archive / "rejected").rglob("*.md"))) == 1  # kept aside once
    assert response_records(archive, url("mayor-resigns")) == ["response", "response", "revisit", "revisit"]
    pages[url("mayor-resigns")] = good
    back = run_scrapy(["refresh"], archive, proxy.url)
    assert back.returncode == 0, back.log[-3000:]
    assert "unchanged:  1" in back.log[back.log.index("refresh summary"):]
    assert [e["event"] for e in events(archive)] == ["archived"]


def test_images_archived_before_are_asked_conditionally_and_kept_as_revisits(tmp_path):
    from tests.conftest import SEEDS
    from tests.fixtures.qq_site import build_site, read_seed

    article = read_seed("001_7e5bc8a25ec71449.txt")
    pages = build_site()
    cover = article.meta["thumbnail"]
    pages[cover] = Page(body=pages[cover].body, content_type="image/png", headers=[("ETag", '"img1"')])
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "001.txt").write_bytes((SEEDS / "001_7e5bc8a25ec71449.txt").read_bytes())
    archive = tmp_path / "archive"
    proxy = FixtureProxy(pages).start()
    try:
        assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
        images = [u for u in pages if u != cover and pages[u].content_type == "image/png"
                  and any(u == uri for uri, _ in proxy.requests)]
        assert images, "the article's body images were fetched"
        again = run_crawl(archive, proxy.url, seeds=seeds)
        assert again.returncode == 0, again.log[-3000:]
    finally:
        proxy.stop()
    assert cover in proxy.not_modified  # asked with If-None-Match, answered 304
    assert response_records(archive, cover) == ["response", "revisit"]
    for image in images:  # no validators: the identical payload is a revisit
        assert response_records(archive, image) == ["response", "revisit"], image
    assert f"'archive/images/unchanged': {len(images) + 1}" in again.log


def test_outcomes_that_come_as_signals_are_recorded_off_the_reactor(tmp_path):
    """SQLite, the change log and a shared run's locks: in the archive I/O
    thread, never in the reactor's (the thread that sends the signal)."""
    import threading

    from scrapy.utils.test import get_crawler

    from crawler.extensions.state import ArchiveStateRecorder

    threads = []

    class Store:
        def get(self, key):
            threads.append(threading.current_thread().name)

        def close(self):
            pass

    crawler = get_crawler(settings_dict={"ARCHIVE_DIR": str(tmp_path / "archive"),
                                         "EXTENSIONS": {"crawler.extensions.archiveio.ArchiveIO": 0}})
    recorder = ArchiveStateRecorder(crawler, store=Store())
    url = "https://city.example/2025/02/13/mayor-resigns/"
    recorder.article_unchanged(url, key="k", capture={}, validators={})
    recorder.article_gone(url, key="k", reason="HTTP 404")
    recorder.url_failed(url, "HTTP 500")
    recorder.drain()
    assert len(threads) == 3 and all(name.startswith("archive-io") for name in threads), threads


def test_evidence_reads_a_growing_warc_and_change_log_on_from_where_it_stopped(site, tmp_path):
    """A WARC being written holds its last record in part: it is read again
    from its start next time, and nothing whole is missed or read twice."""
    from crawler.state.recorded import Evidence

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    (warc,) = (archive / "warc").glob("*.warc.gz")
    (path,) = [p.relative_to(archive).as_posix() for p in (archive / "articles").rglob("*.md")]
    (event,) = events(archive)
    growing = tmp_path / "growing"
    (growing / "warc").mkdir(parents=True)
    data, log = warc.read_bytes(), (archive / "changes.jsonl").read_bytes()
    evidence = Evidence(growing)
    seen = []
    for cut in range(1, 8):
        (growing / "warc" / (warc.name + ".open")).write_bytes(data[:len(data) * cut // 7])
        (growing / "changes.jsonl").write_bytes(log[:len(log) * cut // 7])
        seen.append((evidence.text(path, None, event["text_digest"]), evidence.event(path, None, event["text_digest"])))
    assert seen[-1] == (True, True) and seen[0] == (False, False)
    assert not evidence.text("articles/other.md", None, event["text_digest"])


# --- found by review: each reproduced with a real refresh, each failing before its fix ---------------

def test_a_304_from_another_story_a_redirect_led_to_is_not_unchanged(site, tmp_path):
    """Scrapy's redirect keeps If-Modified-Since: the older story answers 304."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    pages[url("mayor-resigns")] = Page(body=pages[url("mayor-resigns")].body,
                                       headers=[("Last-Modified", "Thu, 13 Feb 2025 12:00:00 GMT")])
    pages[url("tram-delayed")] = Page(body=pages[url("tram-delayed")].body,
                                      headers=[("Last-Modified", "Mon, 10 Feb 2025 08:00:00 GMT")])
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    pages[url("mayor-resigns")] = Page(status=301, headers=[("Location", url("tram-delayed"))])
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert f"gone: {url('mayor-resigns')}: redirected away to {url('tram-delayed')}" in result.log
    assert [e["event"] for e in events(archive)] == ["archived", "gone"]
    assert "revisit" not in response_records(archive, url("tram-delayed"))  # no revisit of the article there
    # the page asked again in full carries its redirect chain on purpose: no warning about it
    assert "internal meta keys" not in result.log


def test_a_revert_whose_run_was_killed_is_recorded_by_the_next(site, tmp_path):
    """A -> B -> A, the run writing the second A killed before any record:
    the first A's records are not this version's."""
    from tests.fixtures.killpoint import pipelines_with_killpoint

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    a = pages[url("mayor-resigns")]
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    pages[url("mayor-resigns")] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0
    pages[url("mayor-resigns")] = a
    killed = run_scrapy(["refresh"], archive, proxy.url,
                        settings={"ITEM_PIPELINES": pipelines_with_killpoint(310), "KILLPOINT_AFTER": 1})
    assert killed.returncode == -9
    again = run_scrapy(["refresh"], archive, proxy.url)
    assert again.returncode == 0 and "written but never recorded" in again.log, again.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived", "changed", "changed"]
    assert len(metadata_files(archive)) == 3
    # named as the revert it is, as a change recorded in time would be
    first, second, late = events(archive)
    assert late["reverted_to"] == second["previous_version"], late


def test_an_og_url_naming_the_front_page_does_not_make_an_edit_gone(site, tmp_path):
    from scrapy.http import HtmlResponse

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    new = url("mayor-resigns-after-council-vote")
    head = f'<meta property="og:url" content="{HOST}/"><link rel="canonical" href="{new}">'
    title = "Mayor resigns after council vote"
    body = reference_page(title, [f"{title}.", STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    body = body.replace("<head>", "<head>" + head)
    assert identity.canonical_url(HtmlResponse(new, body=body.encode(), encoding="utf-8")) == new  # canonical first
    pages[url("mayor-resigns")] = Page(status=301, headers=[("Location", new)])
    pages[new] = Page(body=body.encode())
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]


def test_another_story_under_a_recurring_headline_is_not_the_article(site, tmp_path):
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    brief = f"{HOST}/2025/02/13/morning-briefing/"
    pages[brief] = page("Morning briefing", STORY)
    pages[f"{HOST}/2025/02/14/morning-briefing/"] = page("Morning briefing", OTHER)
    (seeds / "note.md").write_text(f"- [brief]({brief})\n", encoding="utf-8")
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    pages[brief] = Page(status=301, headers=[("Location", f"{HOST}/2025/02/14/morning-briefing/")])
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived", "gone"]
    assert "eleven years" in next((archive / "articles").rglob("*.md")).read_text(encoding="utf-8")


def test_an_article_alive_where_it_last_answered_is_not_gone_when_its_old_slug_404s(site, tmp_path):
    archive, proxy, pages, seeds = edited_and_refreshed(site, tmp_path)
    del pages[url("mayor-resigns")]  # the site drops the old slug's redirect
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]
    assert "unchanged:  1" in result.log[result.log.index("refresh summary"):]


def test_a_rebuild_killed_half_way_leaves_no_partial_state(site, tmp_path):
    """The rebuild is written aside and put in place whole: a kill half-way
    leaves no state, and the next run rebuilds it all."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    proxy, pages, seeds = site
    pages[url("tram-delayed")] = page("Tram line delayed", OTHER)
    (seeds / "note.md").write_text(f"- [mayor]({url('mayor-resigns')})\n- [tram]({url('tram-delayed')})\n",
                                   encoding="utf-8")
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    for name in ("state.sqlite3", "state.sqlite3-wal", "state.sqlite3-shm"):
        (archive / name).unlink(missing_ok=True)
    killed_after_one_row = (
        "import os, signal\nfrom crawler.state import open as opener, sqlite\nreal = sqlite.StateStore.put\n"
        "def put(self, state):\n    real(self, state)\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        f"sqlite.StateStore.put = put\nopener.open_store({str(archive)!r})\n")
    assert subprocess.run([sys.executable, "-c", killed_after_one_row], cwd=ROOT).returncode == -9
    with open_store(archive) as store:
        assert store.count() == 2


def test_a_seed_naming_where_an_article_moved_to_is_that_article(site, tmp_path):
    archive, proxy, pages, seeds = edited_and_refreshed(site, tmp_path)
    # a later seed names the article's new address
    (seeds / "later.md").write_text(f"- [moved]({url('mayor-resigns-after-council-vote')})\n", encoding="utf-8")
    again = run_crawl(archive, proxy.url, seeds=seeds)
    assert again.returncode == 0, again.log[-3000:]
    assert len(list((archive / "articles").rglob("*.md"))) == 1
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]
    with open_store(archive) as store:
        assert store.count() == 1


@pytest.mark.parametrize("killed", ["first-capture", "version"])
def test_an_unrecorded_copy_replaced_by_a_new_version_is_recorded_first(site, tmp_path, killed):
    """A run killed after writing a copy; the page changes again before the
    next check: the killed run's outcome is recorded late, then the change."""
    from tests.fixtures.killpoint import pipelines_with_killpoint

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    kill = {"ITEM_PIPELINES": pipelines_with_killpoint(310), "KILLPOINT_AFTER": 1}
    versions = [page("Mayor resigns", [STORY[0].replace("eleven", n), *STORY[1:]])
                for n in ("twelve", "thirteen")]
    if killed == "first-capture":
        assert run_crawl(archive, proxy.url, seeds=seeds, settings=kill).returncode == -9
    else:
        assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
        pages[url("mayor-resigns")] = versions[0]
        assert run_scrapy(["refresh"], archive, proxy.url, settings=kill).returncode == -9
    pages[url("mayor-resigns")] = versions[1]
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0 and "never recorded" in result.log, result.log[-3000:]
    expected = ["archived", "changed"] if killed == "first-capture" else ["archived", "changed", "changed"]
    assert [e["event"] for e in events(archive)] == expected
    assert len(metadata_files(archive)) == len(expected)  # one text record a version, the replaced one's too
    copies = sorted((archive / "versions").rglob("*.md"))
    recorded = {e.get("text_digest") for e in events(archive)}
    from crawler.core.digest import text_digest

    assert all(text_digest(c.read_text(encoding="utf-8")) in recorded for c in copies)


def test_a_gone_or_back_event_whose_state_was_not_written_is_not_logged_twice(site, tmp_path):
    from tests.fixtures.killpoint import extensions_killed_after_event

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    good = pages.pop(url("mayor-resigns"))  # 404: gone
    for kind in ("gone", "back"):
        killed = run_scrapy(["refresh"], archive, proxy.url,
                            settings={"EXTENSIONS": extensions_killed_after_event(), "KILL_AFTER_EVENT": kind})
        assert killed.returncode == -9, killed.log[-2000:]
        assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0
        pages[url("mayor-resigns")] = good
    assert [e["event"] for e in events(archive)] == ["archived", "gone", "back"]


def test_evidence_finds_text_records_of_indexed_warcs_through_the_index(site, tmp_path):
    """A repair after a kill reads a few records, not every WARC of the archive."""
    from crawler.core import markdown
    from crawler.core.digest import text_digest
    from crawler.state.recorded import Evidence

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    (path,) = [p for p in (archive / "articles").rglob("*.md")]
    text = path.read_text(encoding="utf-8")
    meta = markdown.parse(text)[0]
    rel = path.relative_to(archive).as_posix()
    evidence = Evidence(archive)
    assert evidence.text(rel, meta["warc_record_id"], text_digest(text), url=meta["fetched_url"])
    assert evidence._offsets == {}  # no WARC read whole
    assert not Evidence(archive).text(rel, meta["warc_record_id"], "t2:" + "0" * 64, url=meta["fetched_url"])


def test_evidence_matches_a_version_by_what_both_sides_know():
    from crawler.state.recorded import _matches

    recorded = {("<urn:uuid:a>", "t2:" + "a" * 64)}
    assert _matches(recorded, "<urn:uuid:a>", "t2:" + "a" * 64)
    assert not _matches(recorded, "<urn:uuid:b>", "t2:" + "a" * 64)  # a revert: the same text, a new capture
    assert not _matches(recorded, "<urn:uuid:a>", "t2:" + "b" * 64)  # a file changed by hand
    # a digest from before digests named their algorithm is t1's
    assert _matches({("<urn:uuid:a>", "t1:" + "a" * 64)}, None, "a" * 64)
    # a digest of another algorithm says nothing: the capture decides, and alone it is not enough
    assert _matches(recorded, "<urn:uuid:a>", "t1:" + "c" * 64)
    assert not _matches({(None, "t2:" + "a" * 64)}, None, "t1:" + "a" * 64)


def test_a_change_recorded_but_for_its_state_is_not_counted_again(site, tmp_path):
    """Killed between the change-log event and the state write: the next
    check finds the text and its records there, counts it unchanged, and
    the state catches up (the run after says nothing of it)."""
    from tests.fixtures.killpoint import extensions_killed_after_event

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    headline_edit(pages)
    killed = run_scrapy(["refresh"], archive, proxy.url,
                        settings={"EXTENSIONS": extensions_killed_after_event(), "KILL_AFTER_EVENT": "changed"})
    assert killed.returncode == -9
    for _ in range(2):
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
        summary = result.log[result.log.index("refresh summary"):]
        assert "unchanged:  1" in summary and "changed:    0" in summary, summary
        assert "never recorded" not in result.log
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]
    assert len(metadata_files(archive)) == 2


def test_a_shorter_address_of_the_article_is_the_article_a_section_is_not():
    stored = identity.Stored(urls=[f"{HOST}/story/12345/mayor-resigns"], title="Mayor resigns", paragraphs=STORY)
    corrected = [STORY[0].replace("eleven", "twelve"), *STORY[1:]]
    seed = f"{HOST}/story/12345/mayor-resigns"
    # the site shortened its addresses: the same text and title under /story/12345
    assert identity.not_the_article(seed, f"{HOST}/story/12345", stored, title="Mayor resigns",
                                    paragraphs=corrected) is None
    # with a new headline, the page's own word that it is an article stands in for the title
    assert identity.not_the_article(seed, f"{HOST}/story/12345", stored, title="Mayor quits",
                                    paragraphs=corrected, article_page=True) is None
    # and so does the article's id, kept in the shorter address (a lighter template says nothing)
    assert identity.not_the_article(seed, f"{HOST}/story/12345", stored, title="Mayor quits",
                                    paragraphs=corrected) is None
    assert identity.not_the_article(seed, f"{HOST}/story/12345", stored, title="Mayor quits",
                                    paragraphs=OTHER) is not None  # but not with another text
    # a section above the article, even one that shows part of it, is not the article
    assert identity.not_the_article(seed, f"{HOST}/story/", stored, title="Stories",
                                    paragraphs=OTHER) == "the site's front page or a section page"
    assert identity.not_the_article(seed, f"{HOST}/story/", stored, title="Stories", paragraphs=STORY + OTHER) \
        == "the site's front page or a section page"
    # the front page never is, whatever it says and shows
    assert identity.not_the_article(seed, f"{HOST}/", stored, title="Mayor resigns", paragraphs=STORY,
                                    article_page=True) == "the site's front page or a section page"
    # a first capture: a section is taken only when the page says it is an article
    assert identity.not_the_article(seed, f"{HOST}/story/12345/", None, article_page=True) is None
    assert identity.not_the_article(seed, f"{HOST}/story/12345/", None) is not None
    # an index document is its folder
    assert identity.not_the_article(f"{HOST}/2025/03/28/bus/index.html", f"{HOST}/2025/03/28/bus/", None) is None


def test_a_page_says_it_is_an_article_by_og_type_its_publication_time_or_its_json_ld():
    from scrapy.http import HtmlResponse

    def says(head: str) -> bool:
        return identity.declares_article(HtmlResponse(f"{HOST}/x", body=f"<html><head>{head}</head></html>".encode()))

    assert says('<meta property="og:type" content="article">')
    assert says('<meta property="article:published_time" content="2025-03-28T08:00:00Z">')
    assert says('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle"}</script>')
    assert says('<script type="application/ld+json">{"@graph": [{"@type": "WebPage"}, {"@type": "BlogPosting"}]}</script>')
    assert not says('<meta property="og:type" content="website">')
    # a section's list of articles is not an article
    assert not says('<script type="application/ld+json">{"@type": "ItemList", "itemListElement": '
                    '[{"@type": "NewsArticle"}]}</script>')
    assert not says('<script type="application/ld+json">{not json</script>')


@pytest.mark.parametrize("move", ["short_address", "index_document"])
def test_an_article_under_a_shorter_address_is_archived_and_its_edit_is_a_change(tmp_path, move):
    seed = f"{HOST}/story/12345/mayor-resigns" if move == "short_address" else f"{HOST}/2025/03/28/mayor/index.html"
    target = f"{HOST}/story/12345" if move == "short_address" else f"{HOST}/2025/03/28/mayor/"
    pages = {seed: Page(status=301, headers=[("Location", target)]), target: page("Mayor resigns", STORY),
             f"{HOST}/": page("City news", ["The latest from the city hall, updated all day long."] * 3)}
    with crawled(tmp_path, seed, pages) as (proxy, archive):
        assert [e["event"] for e in events(archive)] == ["archived"]
        pages[target] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
        assert "redirected away" not in result.log
        (current,) = (archive / "articles").rglob("*.md")
        assert "twelve years" in current.read_text(encoding="utf-8")
        assert [e["event"] for e in events(archive)] == ["archived", "changed"]


@pytest.mark.parametrize("then", ["gone", "failed"])
def test_a_version_a_killed_run_wrote_is_recorded_when_the_next_check_finds_the_article_gone_or_failing(
        site, tmp_path, then):
    """The edit is written, the run killed before any record; the next check
    finds a 404 (gone) or a 500 (failed): the written version is recorded
    first, late, not left for a check that may never come."""
    from tests.fixtures.killpoint import pipelines_with_killpoint

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    pages[url("mayor-resigns")] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    killed = run_scrapy(["refresh"], archive, proxy.url,
                        settings={"ITEM_PIPELINES": pipelines_with_killpoint(310), "KILLPOINT_AFTER": 1})
    assert killed.returncode == -9
    (current,) = (archive / "articles").rglob("*.md")
    assert "twelve years" in current.read_text(encoding="utf-8")  # written, never recorded
    assert [e["event"] for e in events(archive)] == ["archived"]
    pages[url("mayor-resigns")] = Page(status=404 if then == "gone" else 500, body=b"<html>no</html>")
    again = run_scrapy(["refresh"], archive, proxy.url)
    assert again.returncode == (0 if then == "gone" else 1), again.log[-3000:]
    assert "written but never recorded" in again.log
    recorded = events(archive)
    assert [e["event"] for e in recorded] == (["archived", "changed", "gone"] if then == "gone"
                                              else ["archived", "changed"])
    assert recorded[1]["recorded_late"] is True and recorded[1]["counts"]
    assert len(metadata_files(archive)) == 2  # the late version's text record too
    with open_store(archive) as store:
        (state,) = list(store.all())
        assert state.text_digest == recorded[1]["text_digest"]
    # and once only: the next check records nothing of it again
    assert run_scrapy(["refresh"], archive, proxy.url).returncode == (0 if then == "gone" else 1)
    assert len(events(archive)) == len(recorded) and len(metadata_files(archive)) == 2


def test_a_move_to_another_domain_with_the_same_text_is_no_change(tmp_path):
    """The site's name comes from the archive (the article's folder), not from
    today's host: the categories, tags and link label stay, so a domain move
    is no edit, and an edit after it is one paragraph's."""
    old, moved = "https://www.city-news.com/2025/02/13/mayor/", "https://www.town-times.org/2025/02/13/mayor/"
    pages = {old: page("Mayor resigns", STORY)}
    with crawled(tmp_path, old, pages) as (proxy, archive):
        (current,) = (archive / "articles").rglob("*.md")
        before = current.read_bytes()
        assert b'categories:\n  - "city-news"' in before
        pages[old] = Page(status=301, headers=[("Location", moved)])
        pages[moved] = page("Mayor resigns", STORY)
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
        assert [e["event"] for e in events(archive)] == ["archived"]
        assert not (archive / "versions").exists()
        assert current.read_bytes() == before
        pages[moved] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
        assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0
        changed = events(archive)[-1]
        assert changed["event"] == "changed" and changed["counts"]["paragraphs_changed"] == 1, changed
        assert not changed["counts"].get("front_matter_changed"), changed


def test_a_cover_address_that_only_changes_its_query_is_no_change(site, tmp_path):
    """A cache-busting or signed og:image link is the same picture: the stored
    address stays and no version is made; another picture is a change."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    (current,) = (archive / "articles").rglob("*.md")
    before = current.read_bytes()
    cover = b"https://static.example-news.test/cover.jpg"
    assert b'thumbnail: "' + cover + b'"' in before
    original = pages[url("mayor-resigns")].body
    for query in (b"?v=1743000000", b"?v=1743000060&w=1200"):
        pages[url("mayor-resigns")] = Page(body=original.replace(cover, cover + query))
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
        assert current.read_bytes() == before
    assert [e["event"] for e in events(archive)] == ["archived"]
    pages[url("mayor-resigns")] = Page(body=original.replace(cover, b"https://static.example-news.test/cover-2.jpg"))
    assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0
    assert [e["event"] for e in events(archive)] == ["archived", "changed"]
    assert b"cover-2.jpg" in current.read_bytes()


@pytest.mark.parametrize("dropped", ["cover", "cover and time"])
def test_a_move_to_a_mobile_template_without_the_cover_tag_is_no_change(site, tmp_path, dropped):
    """The old address answers 301 to the m. host, whose lighter template
    has the same text and no og:image tag: not a change (before, the stored
    cover was dropped and a version made of it); the stored cover stays. So
    does the stored time of day where that template has no
    article:published_time either, and is dated by its address's day."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    (current,) = (archive / "articles").rglob("*.md")
    before = current.read_bytes()
    mobile = "https://m.city.example/2025/02/13/mayor-resigns/"
    body = pages[url("mayor-resigns")].body
    tag = b'<meta property="og:image" content="https://static.example-news.test/cover.jpg">'
    assert tag in body
    if dropped == "cover and time":  # dated by the day its address names
        time_tag = b'<meta property="article:published_time" content="2025-03-25T08:30:00+08:00">'
        assert time_tag in body and b"2025-03-25 08:30:00" in before
        body, mobile = body.replace(time_tag, b""), "https://m.city.example/2025/03/25/mayor-resigns/"
    pages[mobile] = Page(body=body.replace(tag, b""))
    pages[url("mayor-resigns")] = Page(status=301, headers=[("Location", mobile)])
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived"], events(archive)
    assert current.read_bytes() == before and not (archive / "versions").exists()


def test_one_cover_image_whatever_its_query():
    from crawler.pipelines.markdown import same_image

    a = "https://img.example.com/2025/cover.jpg"
    assert same_image(a, a + "?v=2") and same_image(a + "?itok=x", a + "?itok=y")
    assert not same_image(a, "https://img.example.com/2025/cover-2.jpg")
    assert not same_image(a, "https://cdn.example.com/2025/cover.jpg")
    assert not same_image("https://img.example.com/?id=1", "https://img.example.com/?id=2")  # the query is the image
    assert not same_image(None, a) and not same_image(a, "")


ZH_STORY = ["市长周四晚间宣布辞职，她已在任十一年，议会对预算的表决使她无法继续任职。",
            "副市长将主持市政工作，直到秋季举行选举。反对派议员表示辞职早该发生，并要求进行公开调查。",
            "市民对此反应不一，有人表示惋惜，也有人认为这是城市政治的新开始。"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_maintenance_or_consent_page_at_the_articles_address_is_no_version(tmp_path, lang):
    """A 200 that is not the article (the site down for maintenance, a cookie
    wall): refused with the reason, no version; the article back is unchanged."""
    seed = "https://www.city-news.com/2025/02/13/mayor/"
    article = (Page(body=reference_page("市长辞职", ZH_STORY, lang="zh-CN").encode()) if lang == "zh"
               else page("Mayor resigns", STORY))
    interstitial = Page(body=reference_page("Site maintenance" if lang == "zh" else "We value your privacy", [
        "We are carrying out scheduled maintenance and will be back shortly. Thank you for your patience."
        if lang == "zh" else
        "We and our partners use cookies to personalise content and ads and to analyse our traffic. "
        "You can accept all cookies or manage your choices at any time in the privacy settings."]).encode())
    pages = {seed: article}
    with crawled(tmp_path, seed, pages) as (proxy, archive):
        (current,) = (archive / "articles").rglob("*.md")
        before = current.read_bytes()
        pages[seed] = interstitial
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 1, result.log[-3000:]
        assert "shares none of its text and has another title" in result.log
        assert current.read_bytes() == before and not (archive / "versions").exists()
        pages[seed] = article
        assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0
        assert [e["event"] for e in events(archive)] == ["archived"]
        assert current.read_bytes() == before


ZH_STORY = ["市议会周二晚间以十二票对三票通过了新的年度预算，其中包括扩建有轨电车线路的计划。",
            "市长在会后表示，这项预算将使城市能够雇用更多的公交司机，并延长夜间服务时间。",
            "反对派议员批评说，预算没有为老城区的住房维修留出足够的资金，并要求举行听证会。",
            "根据预算，有轨电车延长线将于明年春季开工，预计两年后通车，总投资约为四十亿元。"]


@pytest.mark.parametrize("case", ["read more", "spacing"])
def test_what_only_the_template_changes_in_the_body_is_no_change(tmp_path, case):
    """A labelled link to another story that the site picks anew on every load,
    and spacing a template adds (a no-break space after "，", a zero-width
    space, spaces between Chinese and Latin text): no version, no event."""
    if case == "read more":
        def body(pick):
            return reference_page("Mayor resigns", STORY[:2] + [f"Read more: {pick}"] + STORY[2:])
        first, later = body("Tram line to the airport delayed"), body("Council approves the new budget")
    else:
        first = reference_page("市议会通过新预算", ZH_STORY + ["新预算自2026年1月1日起生效，涉及GDP增长目标。"], lang="zh")
        later = reference_page("市议会通过新预算", [p.replace("，", "，\xa0") for p in ZH_STORY[:2]]
                               + [ZH_STORY[2].replace("老城区", "老\u200b城区"), ZH_STORY[3],
                                  "新预算自 2026 年 1 月 1 日起生效，涉及 GDP 增长目标。"], lang="zh")
    with crawled(tmp_path, url("mayor-resigns"), {url("mayor-resigns"): Page(body=first.encode())}) as (proxy, archive):
        (stored,) = (archive / "articles").rglob("*.md")
        before = stored.read_bytes()
        assert (b"Read more" in before) is False
        proxy.pages[url("mayor-resigns")] = Page(body=later.encode())
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
        assert stored.read_bytes() == before
        assert not (archive / "versions").exists()
        assert [e["event"] for e in events(archive)] == ["archived"]


def _every_copy_has_its_event(archive) -> None:
    from crawler.core.digest import text_digest

    recorded = {e.get("text_digest") for e in events(archive)}
    copies = [*sorted((archive / "versions").rglob("*.md")), *sorted((archive / "articles").rglob("*.md"))]
    assert copies and all(text_digest(c.read_text(encoding="utf-8")) in recorded for c in copies), events(archive)


def test_a_page_back_to_the_recorded_text_after_a_killed_run_is_not_unchanged(site, tmp_path):
    """A -> B, the run writing B killed before any record; the site goes back
    to A. The identical payload (or a 304) says the page is what the state
    recorded, not what the file holds: the file kept B for good, unrecorded,
    and every later refresh said "unchanged". Now B is recorded late and the
    return to A is a change that names the version it reverts to."""
    from tests.fixtures.killpoint import pipelines_with_killpoint

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    a = pages[url("mayor-resigns")]
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    pages[url("mayor-resigns")] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    killed = run_scrapy(["refresh"], archive, proxy.url,
                        settings={"ITEM_PIPELINES": pipelines_with_killpoint(310), "KILLPOINT_AFTER": 1})
    assert killed.returncode == -9
    pages[url("mayor-resigns")] = a
    again = run_scrapy(["refresh"], archive, proxy.url)
    assert again.returncode == 0 and "fetched in full" in again.log, again.log[-3000:]
    article = next((archive / "articles").rglob("*.md")).read_text(encoding="utf-8")
    assert "eleven years" in article and "twelve years" not in article
    first, late, back = events(archive)
    assert (first["event"], late["event"], late.get("recorded_late"), back["event"]) == \
        ("archived", "changed", True, "changed"), events(archive)
    assert back["reverted_to"] == late["previous_version"]
    _every_copy_has_its_event(archive)
    assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0 and len(events(archive)) == 3


def test_a_copy_left_unrecorded_by_two_killed_runs_in_a_row_is_recorded(site, tmp_path):
    """A -> B (killed before any record) -> C (killed too, after C replaced
    B): B sat under versions/ with no event, and the next runs recorded only
    C. Every copy the killed runs wrote is recorded, oldest first."""
    from tests.fixtures.killpoint import pipelines_with_killpoint

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    kill = {"ITEM_PIPELINES": pipelines_with_killpoint(310), "KILLPOINT_AFTER": 1}
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    for n in ("twelve", "thirteen"):
        pages[url("mayor-resigns")] = page("Mayor resigns", [STORY[0].replace("eleven", n), *STORY[1:]])
        assert run_scrapy(["refresh"], archive, proxy.url, settings=kill).returncode == -9
    again = run_scrapy(["refresh"], archive, proxy.url)
    assert again.returncode == 0, again.log[-3000:]
    assert [(e["event"], e.get("recorded_late")) for e in events(archive)] == \
        [("archived", None), ("changed", True), ("changed", True)], events(archive)
    assert len(metadata_files(archive)) == 3
    _every_copy_has_its_event(archive)


def test_a_revert_written_by_a_killed_run_is_recorded_though_its_text_is_the_states(site, tmp_path):
    """A -> B (killed before any record) -> A again (killed too): the file
    holds A's text, the one the capture state holds, but this copy of it and
    B were never recorded. A byte-identical page or a 304 does not hide them."""
    from tests.fixtures.killpoint import pipelines_with_killpoint

    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    kill = {"ITEM_PIPELINES": pipelines_with_killpoint(310), "KILLPOINT_AFTER": 1}
    a = pages[url("mayor-resigns")]
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    pages[url("mayor-resigns")] = page("Mayor resigns", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    assert run_scrapy(["refresh"], archive, proxy.url, settings=kill).returncode == -9
    pages[url("mayor-resigns")] = a
    assert run_scrapy(["refresh"], archive, proxy.url, settings=kill).returncode == -9
    again = run_scrapy(["refresh"], archive, proxy.url)
    assert again.returncode == 0, again.log[-3000:]
    first, b, back = events(archive)
    assert [(e["event"], e.get("recorded_late")) for e in (first, b, back)] == \
        [("archived", None), ("changed", True), ("changed", True)], events(archive)
    assert back["reverted_to"] == b["previous_version"]
    _every_copy_has_its_event(archive)
    assert run_scrapy(["refresh"], archive, proxy.url).returncode == 0 and len(events(archive)) == 3


@pytest.mark.parametrize("canonical, outcome", [("mayor-resigns-after-council-vote", "changed"), ("", "gone")])
def test_a_404_naming_where_the_article_moved_is_asked_there(site, tmp_path, canonical, outcome):
    """The old address answers 404, and the error page's rel=canonical names
    the article's new address: an edit there is a change, not a disappearance.
    A 404 whose canonical is the front page is still gone."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    target = url(canonical) if canonical else f"{HOST}/"
    pages[url("mayor-resigns")] = Page(status=404, body=(
        f'<html><head><link rel="canonical" href="{target}"><title>Page not found</title></head>'
        "<body><p>Sorry, this page does not exist.</p></body></html>").encode())
    pages[url("mayor-resigns-after-council-vote")] = page(
        "Mayor resigns after council vote", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived", outcome], events(archive)
    text = next((archive / "articles").rglob("*.md")).read_text(encoding="utf-8")
    assert ("twelve years" in text) == (outcome == "changed")


def test_a_page_that_would_send_the_reader_back_names_the_article():
    asked = [url("mayor-resigns")]
    assert identity.sends_back(asked, f"{HOST}/login?next=/2025/02/13/mayor-resigns/")
    assert identity.sends_back(asked, "https://consent.city.example/?continue=https%3A%2F%2FCity.example%2F2025"
                                      "%2F02%2F13%2Fmayor-resigns%2F&gl=GB")
    assert identity.sends_back(asked, f"{HOST}/paywall#return=https%253A%252F%252Fcity.example%252F2025%252F02"
                                      "%252F13%252Fmayor-resigns")
    assert identity.sends_back(asked, "https://consent.example/?continue=https%3A%2F%2Fwww.city.example%2F2025%2F02"
                                      "%2F13%2Fmayor-resigns%2F%3Futm_source%3Dconsent")  # www., a tracking parameter
    assert identity.sends_back(asked, f"{HOST}/login?next=2025/02/13/mayor-resigns/")  # relative, no leading slash
    assert identity.sends_back(asked, f"{HOST}/#/login?redirect=%2F2025%2F02%2F13%2Fmayor-resigns%2F")  # a hash route
    assert identity.sends_back(asked, f"{HOST}/login?state=%7B%22returnTo%22%3A%22https%3A%2F%2Fcity.example%2F2025"
                                      "%2F02%2F13%2Fmayor-resigns%2F%22%7D")  # inside a JSON state
    assert not identity.sends_back(asked, f"{HOST}/login?next=/2025/02/13/mayor-resigns-again/")  # another article
    assert not identity.sends_back(asked, f"{HOST}/sso?return=aHR0cHM6Ly9jaXR5LmV4YW1wbGUvMjAyNS8wMi8xMy9vdGhlci8")
    assert not identity.sends_back(["https://n.example/article.php?id=123"], "https://n.example/login?next="
                                   "%2Farticle.php%3Fid%3D1234")  # another id
    assert not identity.sends_back(asked, f"{HOST}/login?next=/")  # a login that names no article
    # pages that name the article but are no wall: an error page, a new slug saying where it came from
    assert not identity.sends_back(asked, f"{HOST}/error.htm?aspxerrorpath=/2025/02/13/mayor-resigns/")
    assert not identity.sends_back(asked, url("mayor-resigned") + "?from=/2025/02/13/mayor-resigns/")
    # the path alone, on another site, names another site's page
    assert not identity.sends_back(asked, "https://www.other-news.com/login?next=/2025/02/13/mayor-resigns/")
    assert identity.sends_back(asked, f"{HOST}/sso/start?s=%2F2025%2F02%2F13%2Fmayor-resigns%2F")  # a wall's address
    # a path inside a JSON state, relative to the login page, with its query in another order, in the wall's path
    assert identity.sends_back(asked, f"{HOST}/login?state=%7B%22returnTo%22%3A%22%2F2025%2F02%2F13%2Fmayor-resigns"
                                      "%2F%22%7D")
    assert identity.sends_back(asked, f"{HOST}/account/login?next=../2025/02/13/mayor-resigns/")
    assert identity.sends_back(["https://n.example/news.php?id=884213&page=1"],
                               "https://n.example/login?next=%2Fnews.php%3Fpage%3D1%26id%3D884213")
    assert identity.sends_back(asked, f"{HOST}/login/return/2025/02/13/mayor-resigns/")
    assert not identity.sends_back(asked, f"{HOST}/amp/2025/02/13/mayor-resigns/")  # no wall: the rule judges it
    # a paywall that names the article by the id in its address, and only a wall's address may
    assert identity.sends_back([f"{HOST}/story/884213/mayor"], f"{HOST}/subscribe?article_id=884213")
    assert not identity.sends_back([f"{HOST}/story/884213/mayor"], f"{HOST}/story/884299?related=884213")
    assert not identity.with_added_query("https://n.example/a.php?id=7", "https://n.example/a.php?id=7&id=8")
    assert not identity.sends_back(asked, f"{HOST}/search?q=/2025/02/13/mayor")  # another address
    assert not identity.sends_back(asked, url("mayor-resigns-after-council-vote") + "?ref=home")
    assert not identity.sends_back([f"{HOST}/"], f"{HOST}/login?next=/")  # "/" names no article


WALLS = {"login": f"{HOST}/login?next=/2025/02/13/mayor-resigns/",
         "consent": "https://consent.city.example/ml?continue=https%3A%2F%2Fcity.example%2F2025%2F02%2F13%2F"
                    "mayor-resigns%2F&hl=en",
         # in the fragment, which the download drops from the response's address
         "fragment": f"{HOST}/login#next=https%3A%2F%2Fcity.example%2F2025%2F02%2F13%2Fmayor-resigns%2F",
         # in base64, as single sign-on and paywall vendors write it
         "base64": f"{HOST}/sso?return=aHR0cHM6Ly9jaXR5LmV4YW1wbGUvMjAyNS8wMi8xMy9tYXlvci1yZXNpZ25zLw",
         # a login page whose template says og:type article, at an address that says it is a login
         "declared": f"{HOST}/signin?next=/2025/02/13/mayor-resigns/"}


def wall_page(kind: str) -> Page:
    """A login or consent page: text enough to pass for a page, and nothing that says it is an article."""
    title = "Sign in" if kind == "login" else "Before you continue"
    text = ["Sign in or create an account to keep reading the stories our newsroom publishes every day."
            if kind == "login" else
            "We and our partners use cookies and data to deliver and maintain our services and to measure audiences.",
            "Subscribers get unlimited access on every device, newsletters and the daily crossword puzzle.",
            "If you have questions about your account, write to our reader services team at any time."]
    body = "".join(f"<p>{p}</p>" for p in text)
    og = '<meta property="og:type" content="article">' if kind == "declared" else ""
    return Page(body=f"<!DOCTYPE html><html><head><title>{title}</title>{og}</head><body><main><h1>{title}</h1>"
                     f"{body}<form><input name='email'><button>Continue</button></form></main></body></html>".encode())


@pytest.mark.parametrize("kind", sorted(WALLS))
def test_a_redirect_to_a_login_or_consent_page_is_a_failure_not_a_disappearance(site, tmp_path, kind):
    """The article's address redirects to a login or consent page that would
    send the reader back to it: not the article, and no sign that it is gone.
    A refresh counts a failure (cron hears of it) and records no event; the
    article readable again is unchanged, not "back"."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    (current,) = (archive / "articles").rglob("*.md")
    before, article = current.read_bytes(), pages[url("mayor-resigns")]
    pages[url("mayor-resigns")] = Page(status=302, headers=[("Location", WALLS[kind])])
    pages[WALLS[kind].split("#")[0]] = wall_page(kind)  # a fragment is never sent
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 1, result.log[-3000:]
    assert "a page that would send the reader back to the article" in result.log
    assert f"gone: {url('mayor-resigns')}" not in result.log
    assert [e["event"] for e in events(archive)] == ["archived"]
    with open_store(archive) as store:
        (state,) = list(store.all())
        assert state.status == "failing"
    assert current.read_bytes() == before and not (archive / "versions").exists()
    pages[url("mayor-resigns")] = article
    again = run_scrapy(["refresh"], archive, proxy.url)
    assert again.returncode == 0, again.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived"]
    assert current.read_bytes() == before


def test_a_first_crawl_sent_to_a_login_page_archives_no_login_page(site, tmp_path):
    proxy, pages, seeds = site
    pages[url("mayor-resigns")] = Page(status=302, headers=[("Location", WALLS["login"])])
    pages[WALLS["login"]] = wall_page("login")
    archive = tmp_path / "archive"
    result = run_crawl(archive, proxy.url, seeds=seeds)
    assert result.returncode != 0
    assert f"not archived: {url('mayor-resigns')}: redirected to {WALLS['login']}, a page" in result.log
    assert not list((archive / "articles").rglob("*.md"))


#: A council story and the readers' comments under their count, which today's
#: extraction leaves out and an earlier one (EARLIER_EXTRACTOR) kept.
COUNCIL = ["市议会周二晚间以十二票对三票通过了新的年度预算，其中包括扩建有轨电车线路的计划。",
           "市长在会后表示，这项预算将使城市能够雇用更多的公交司机，并延长夜间服务时间。",
           "反对派议员批评说，预算没有为老城区的住房维修留出足够的资金，并要求举行听证会。"]
READERS = ["《市议会通过年度预算》已有2条评论", "网友甲：早该修修老城区的房子了，希望听证会能有结果。",
           "网友乙：夜间公交延长是好事，下班晚的人终于不用打车回家了。"]
#: The first run's extraction, as an earlier version had it: no comment count ends the article.
EARLIER_EXTRACTOR = "import re\nimport crawler.sites.zh\ncrawler.sites.zh.COMMENT_COUNT = re.compile('(?!)')\n"


def council_page(story: list[str], hot: str) -> Page:
    """The story, its comments, and a hot list the site picks anew on every load (chrome)."""
    page = reference_page("市议会通过年度预算", story + READERS, lang="zh-CN")
    return Page(body=page.replace("</main>", f'<aside class="hot"><a href="/hot">{hot}</a></aside></main>').encode())


@pytest.mark.parametrize("edited, cause", [(False, "extraction"), (True, "page and extraction")])
def test_a_change_that_only_the_extraction_makes_is_recorded_as_the_extractions(tmp_path, edited, cause):
    """An archive made by an earlier extractor (it kept the comments), then a
    refresh by today's of a page whose chrome changed: a new version, and its
    event says the site did not make it (the stored copy's own page, read
    again, gives the new text); with an edit too, it says both."""
    seed = "https://www.city-news.cn/2025/02/13/budget.html"
    shim = tmp_path / "earlier"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(EARLIER_EXTRACTOR)
    pages = {seed: council_page(COUNCIL, "热点一")}
    with crawled(tmp_path, seed, pages, env_extra={"PYTHONPATH": str(shim)}) as (proxy, archive):
        (current,) = (archive / "articles").rglob("*.md")
        assert READERS[1] in current.read_text(encoding="utf-8")  # the earlier extractor's text
        story = [COUNCIL[0].replace("十二票", "十一票"), *COUNCIL[1:]] if edited else COUNCIL
        pages[seed] = council_page(story, "热点二")
        result = run_scrapy(["refresh"], archive, proxy.url)
        assert result.returncode == 0, result.log[-3000:]
    assert READERS[1] not in current.read_text(encoding="utf-8")
    archived, changed = events(archive)
    assert changed["event"] == "changed" and changed["cause"] == cause, changed
    assert ("not a new text on the page" in result.log) == (cause == "extraction")
    shown = run_scrapy(["history", seed], archive, None)
    assert shown.returncode == 0, shown.log[-3000:]
    assert ("made by the extraction, not by the site" in shown.log) == (cause == "extraction"), shown.log
    assert ("part of it made by the extraction" in shown.log) == (cause != "extraction"), shown.log
    diffed = run_scrapy(["diff", seed], archive, None)
    assert diffed.returncode == 0 and READERS[1] in diffed.log, diffed.log[-3000:]
    assert ("note: " in diffed.log and "made by the extraction" in diffed.log), diffed.log[-3000:]
    assert ("made by the extraction" in summary_line(changed)) and "made by the extraction" not in summary_line(
        {**changed, "cause": "page"})


def test_a_consent_page_at_the_articles_own_address_with_a_parameter_added_is_no_disappearance(site, tmp_path):
    """The article's address redirects to itself with a parameter added
    (``?cmpredirect=1``) and a consent page answers there: judged as a page at
    the article's address (refused, a failure), not as another article (gone)."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    consent = url("mayor-resigns") + "?cmpredirect=1"
    pages[url("mayor-resigns")] = Page(status=302, headers=[("Location", consent)])
    # a consent page longer than the article: no shorter-page refusal would catch it
    long_wall = wall_page("consent").body.replace(b"</main>", b"".join(
        b"<p>We and our 842 partners store and access information on your device for these purposes: "
        b"personalised advertising and content, measurement and audience research, number %d.</p>" % n
        for n in range(6)) + b"</main>")
    pages[consent] = Page(body=long_wall)
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 1, result.log[-3000:]
    assert f"gone: {url('mayor-resigns')}" not in result.log
    assert "the article's address with parameters added, is not the article" in result.log
    assert [e["event"] for e in events(archive)] == ["archived"]
    assert "842 partners" not in next((archive / "articles").rglob("*.md")).read_text(encoding="utf-8")
    assert identity.not_the_article(url("mayor-resigns"), url("mayor-resigns") + "?ref=home") is None
    assert identity.not_the_article("https://n.example/a.php?id=7", "https://n.example/a.php?id=8&x=1",
                                    identity.Stored(urls=[], title="A", paragraphs=STORY), title="B",
                                    paragraphs=OTHER) is not None


def _cause_article(**fields) -> dict:
    from crawler.core.digest import article_parts, parts_digest
    from crawler.core.markdown import render
    article = {"source_url": url("mayor-resigns"), "url": url("mayor-resigns"), "site": "example", "lang": "en",
               "title": "Mayor resigns", "date": "2025-03-25 08:30:00", "thumbnail": "https://img.example/a.jpg",
               "blocks": [{"type": "text", "text": p, "markdown": p} for p in STORY], **fields}
    article["text_digest"] = parts_digest(article_parts(render(article)))
    return article


def test_a_changes_cause_reads_the_earlier_page_with_the_rules_the_new_one_gets():
    """The re-read earlier page gets what write() keeps of the stored copy, as
    the new page did: a day-only date today's extraction gives both pages is
    no edit of the site's; a cover the site changed is one, though today's
    extraction finds no cover on the earlier page."""
    from crawler.core.digest import article_parts
    from crawler.core.markdown import parse, render
    from crawler.pipelines.markdown import change_cause, kept_from_stored
    stored = _cause_article(blocks=[{"type": "text", "text": p, "markdown": p} for p in STORY + ["Share this."]])
    old_meta, old_paragraphs = parse(render(stored))
    old_meta["warc_record_id"] = "<urn:uuid:1>"
    old_parts = article_parts(render(stored))
    reread = lambda **f: {"record_id": "<urn:uuid:1>", "fields": {  # noqa: E731
        "title": "Mayor resigns", "lang": "en", "blocks": _cause_article()["blocks"], **f}}
    # today's extraction: no share line, and the day only (the stored time of day kept)
    new = _cause_article(date="2025-03-25 00:00:00")
    new.update(kept_from_stored(old_meta, new))
    new = _cause_article(**{k: new[k] for k in ("date", "thumbnail")})
    assert change_cause(new, old_meta, old_parts, reread(date="2025-03-25 00:00:00",
                                                         thumbnail=stored["thumbnail"])) == "extraction"
    # the site changed the cover; today's extraction finds none on the earlier page
    recovered = _cause_article(thumbnail="https://img.example/b.jpg")
    assert change_cause(recovered, old_meta, old_parts, reread(date=stored["date"], thumbnail="")) != "extraction"
    # what says less is kept, what says otherwise is not
    assert kept_from_stored({"lang": ["und"], "date": "2025-03-25 08:30:00"}, {"lang": "zh", "date": ""}) == \
        {"lang": "und", "date": "2025-03-25 08:30:00"}
    assert kept_from_stored({"lang": ["zh-CN"], "date": "2025-03-25 08:30:00"},
                            {"lang": "zh", "date": "2025-03-24 00:00:00"}) == {}  # another day: a correction
    # a re-read of another copy than the one stored says nothing
    assert change_cause(new, old_meta, old_parts, {"record_id": "<urn:uuid:2>", "fields": {}}) is None


def test_an_empty_page_whose_refresh_header_names_the_new_address_is_followed(site, tmp_path):
    """A Refresh header (``0; url=…``) on an empty 200 moves the reader as a
    meta refresh does: followed, and the edit behind it is a change."""
    proxy, pages, seeds = site
    archive = tmp_path / "archive"
    assert run_crawl(archive, proxy.url, seeds=seeds).returncode == 0
    moved = url("mayor-resigns-after-council-vote")
    pages[url("mayor-resigns")] = Page(body=b"", headers=[("Refresh", f"0; url={moved}")])
    pages[moved] = page("Mayor resigns after council vote", [STORY[0].replace("eleven", "twelve"), *STORY[1:]])
    result = run_scrapy(["refresh"], archive, proxy.url)
    assert result.returncode == 0, result.log[-3000:]
    assert [e["event"] for e in events(archive)] == ["archived", "changed"], events(archive)
    assert "twelve years" in next((archive / "articles").rglob("*.md")).read_text(encoding="utf-8")
