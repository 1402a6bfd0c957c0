"""``scrapy refresh``: re-checks archived articles, decides each outcome, keeps history clean.

One fixture web (a forward proxy on 127.0.0.1), one archive: a first crawl
archives the qq seeds and a handful of news pages; then the web changes the
way real sites do (a corrected character, chrome that changes on every
load, a deleted article, one sent to the front page, a failing server) and
a real ``scrapy refresh`` subprocess runs over it. A third refresh brings a
gone article back.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import time

import frontmatter
import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.state.open import open_store
from tests.conftest import ROOT, SEEDS, run_crawl, run_scrapy
from tests.fixtures.qq_site import Page, build_site, read_seed, reference_page
from tests.fixtures.server import FixtureProxy

HOST = "https://news.example"
TEXT = ["The harbour authority approved the new container terminal on Tuesday after two years of talks.",
        "Shipping lines welcomed the decision, which adds capacity for two million containers a year.",
        "Residents near the site asked for limits on night work and lorry traffic through the old town.",
        "Construction is due to start in the spring and the first berth should open within three years."]
QQ_001 = read_seed("001_7e5bc8a25ec71449.txt")


def news(title: str, text=TEXT, hot: str = "Markets steady") -> bytes:
    page = reference_page(title, [f"{title}."] + list(text))
    # chrome that changes on every load: a hot list and a view counter
    return page.replace("<footer>", f'<aside class="hot"><h2>Trending</h2><ul><li>{hot}</li></ul>'
                                    f'<span class="views">{len(hot) * 1000} views</span></aside><footer>').encode()


PAGES = {
    "validators": lambda: Page(body=news("Terminal approved"), headers=[("ETag", '"v1"')]),
    "lastmod": lambda: Page(body=news("Port fees rise"), headers=[("Last-Modified", "Tue, 25 Mar 2025 08:30:00 GMT")]),
    "static": lambda: Page(body=news("Ferry timetable changes")),  # no validators at all
    "chrome": lambda: Page(body=news("Dock workers vote")),
    "deleted": lambda: Page(body=news("Crane collapse inquiry")),
    "moved": lambda: Page(body=news("Harbour master retires")),
    "broken": lambda: Page(body=news("Tug boat fleet renewed")),
}


def url(name: str) -> str:
    return f"{HOST}/2025/03/{name}.html"


@pytest.fixture(scope="module")
def web():
    pages = build_site()
    for name, make in PAGES.items():
        pages[url(name)] = make()
    pages[f"{HOST}/"] = Page(body=news("Front page", ["Latest news from the port and the city, updated all day."] * 3))
    proxy = FixtureProxy(pages).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    for name in ("000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt", "004_0f7ec6953a63be2f.txt"):
        (folder / name).write_bytes((SEEDS / name).read_bytes())
    links = "\n".join(f"- [{name}]({url(name)})" for name in PAGES)
    (folder / "note.md").write_text(f"# Port news\n\n{links}\n", encoding="utf-8")
    return folder


def corrected_001() -> bytes:
    """Seed 001's page with one character corrected: 两个月 -> 三个月."""
    body = build_site()[QQ_001.source_url].body.decode("utf-8")
    assert body.count("仅用两个月") == 1
    return body.replace("仅用两个月", "仅用三个月").encode("utf-8")


def warc_records(archive):
    out = []
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                out.append({
                    "file": path.name, "type": record.rec_type,
                    "uri": record.rec_headers.get_header("WARC-Target-URI"),
                    "id": record.rec_headers.get_header("WARC-Record-ID"),
                    "profile": record.rec_headers.get_header("WARC-Profile"),
                    "refers_to": record.rec_headers.get_header("WARC-Refers-To"),
                    "status": record.http_headers.get_statuscode() if record.http_headers else None,
                    "length": int(record.rec_headers.get_header("Content-Length")),
                })
    return out


def snapshot(archive):
    return {p.relative_to(archive).as_posix(): p.read_bytes()
            for p in archive.rglob("*.md") if "rejected" not in p.parts}


@pytest.fixture(scope="module")
def runs(web, seeds, tmp_path_factory):
    archive = tmp_path_factory.mktemp("archive")
    first = run_crawl(archive, web.url, seeds=seeds)
    assert first.returncode == 0, first.log[-4000:]
    before = snapshot(archive)
    records_before = warc_records(archive)
    warc_bytes_before = sum(p.stat().st_size for p in (archive / "warc").glob("*.warc.gz"))
    # the web changes
    web.pages[QQ_001.source_url] = Page(body=corrected_001(), chunked=True)
    web.pages[url("chrome")] = Page(body=news("Dock workers vote", hot="Storm warning for the coast"))
    del web.pages[url("deleted")]
    web.pages[url("moved")] = Page(status=302, headers=[("Location", f"{HOST}/")])
    web.pages[url("broken")] = Page(status=500, body=b"<html><body>Internal error</body></html>")
    web.not_modified.clear()
    requests_before = len(web.requests)
    second = run_scrapy(["refresh"], archive, web.url)
    asked = web.requests[requests_before:]
    after = snapshot(archive)
    records_after = warc_records(archive)
    # the deleted article comes back; the server is healthy again
    web.pages[url("deleted")] = PAGES["deleted"]()
    web.pages[url("broken")] = PAGES["broken"]()
    third = run_scrapy(["refresh"], archive, web.url)
    return {"archive": archive, "first": first, "second": second, "third": third, "before": before,
            "after": after, "records_before": records_before, "records_after": records_after,
            "warc_bytes_before": warc_bytes_before, "asked": asked}


def path_of(archive, name: str) -> str:
    with open_store(archive) as store:
        return next(s.path for s in store.all() if s.source_url == url(name))


def test_refresh_summary_and_exit_status(runs):
    log = runs["second"].log
    summary = log[log.index("refresh summary"):]
    assert "checked:    10 of 10 due" in summary
    assert "changed:    1" in summary and "articles/qq/20250210A05NRE00.md" in summary
    assert "gone:       2" in summary
    assert "failed:     1" in summary and "HTTP 500" in summary
    assert "unchanged:  6" in summary
    assert runs["second"].returncode == 1  # one check failed


def test_conditional_requests_use_the_stored_validators(runs, web):
    sent = {u: h for u, h in runs["asked"]}
    assert sent[url("validators")].get("If-None-Match") == '"v1"'
    assert sent[url("lastmod")].get("If-Modified-Since") == "Tue, 25 Mar 2025 08:30:00 GMT"
    assert "If-None-Match" not in sent[url("static")] and "If-Modified-Since" not in sent[url("static")]


def test_a_corrected_article_gets_a_new_version_and_keeps_the_old_one(runs):
    archive = runs["archive"]
    rel = "articles/qq/20250210A05NRE00.md"
    assert runs["after"][rel] != runs["before"][rel]
    versions = [k for k in runs["after"] if k.startswith("versions/qq/20250210A05NRE00/")]
    assert len(versions) == 1
    assert runs["after"][versions[0]] == runs["before"][rel]  # byte for byte
    old_capture = frontmatter.loads(runs["before"][rel].decode())["warc_date"]
    assert versions[0].endswith(re.sub(r"\D", "", str(old_capture))[:8] + "T"
                                + re.sub(r"\D", "", str(old_capture))[8:14] + "Z.md")
    assert "仅用三个月" in runs["after"][rel].decode() and "仅用三个月" not in runs["before"][rel].decode()
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text().splitlines()]
    changed = [e for e in events if e["event"] == "changed"]
    assert len(changed) == 1
    event = changed[0]
    assert event["article"] == rel and event["previous_version"] == versions[0]
    assert event["url"] == QQ_001.source_url and event["record_id"] and event["previous_record_id"]
    assert event["counts"]["paragraphs_changed"] == 1 and event["counts"]["chars_added"] == 1


def test_unchanged_articles_get_no_new_version(runs):
    new_files = set(runs["after"]) - set(runs["before"])
    assert new_files == {k for k in new_files if k.startswith("versions/qq/20250210A05NRE00/")}
    for name in ("validators", "lastmod", "static", "chrome"):
        rel = path_of(runs["archive"], name)
        assert runs["after"][rel] == runs["before"][rel], name


def test_304_and_identical_payloads_are_revisits_not_copies(runs, web):
    new = runs["records_after"][len(runs["records_before"]):]
    by_uri = {}
    for record in new:
        by_uri.setdefault(record["uri"], []).append(record)
    for name in ("validators", "lastmod"):
        kinds = [(r["type"], r["profile"]) for r in by_uri[url(name)] if r["type"] != "request"]
        assert ("revisit", "http://netpreserve.org/warc/1.0/revisit/server-not-modified") in kinds, kinds
        assert not [r for r in by_uri[url(name)] if r["type"] == "response"]
    for name in ("static",):
        kinds = [(r["type"], r["profile"]) for r in by_uri[url(name)] if r["type"] != "request"]
        assert kinds == [("revisit", "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest")], kinds
    # the chrome changed: a full response, but no version and no change event
    assert [r["type"] for r in by_uri[url("chrome")] if r["type"] != "request"] == ["response"]
    # the revisits refer to the first crawl's responses
    first_ids = {r["id"] for r in runs["records_before"] if r["type"] == "response"}
    for record in new:
        if record["type"] == "revisit":
            assert record["refers_to"] in first_ids


def test_gone_articles_are_kept_and_reported(runs):
    archive = runs["archive"]
    for name in ("deleted", "moved"):
        rel = path_of(archive, name)
        assert runs["after"][rel] == runs["before"][rel]
        assert frontmatter.loads(runs["after"][rel].decode())["title"] != "Front page"
    log = runs["second"].log
    assert f"gone: {url('deleted')}: HTTP 404" in log
    assert f"gone: {url('moved')}: redirected away to {HOST}/" in log
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text().splitlines()]
    gone = {e["url"]: e for e in events if e["event"] == "gone"}
    assert set(gone) == {url("deleted"), url("moved")}


def test_a_failing_server_changes_nothing_stored(runs):
    rel = path_of(runs["archive"], "broken")
    assert runs["after"][rel] == runs["before"][rel]
    with open_store(runs["archive"]) as store:
        state = next(s for s in store.all() if s.source_url == url("broken"))
    # healthy again in the third run
    assert state.status == "ok" and state.failures == 0


def test_a_gone_article_that_returns_is_back(runs):
    third = runs["third"]
    assert third.returncode == 0, third.log[-3000:]
    summary = third.log[third.log.index("refresh summary"):]
    assert "back:       1" in summary and url("deleted") in summary
    events = [json.loads(line) for line in (runs["archive"] / "changes.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events if e["url"] == url("deleted")] == ["archived", "gone", "back"]
    with open_store(runs["archive"]) as store:
        states = {s.source_url: s for s in store.all()}
    assert states[url("deleted")].status == "ok"
    assert states[url("moved")].status == "gone" and states[url("moved")].status_since


def test_change_log_lines_are_whole_json(runs):
    lines = (runs["archive"] / "changes.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        event = json.loads(line)
        assert {"time", "event", "url", "article"} <= set(event)


def test_selectors_limit_what_is_checked(web, seeds, tmp_path):
    archive = tmp_path / "archive"
    assert run_crawl(archive, web.url, seeds=seeds).returncode in (0, 1)
    only_site = run_scrapy(["refresh", "--site", "qq"], archive, web.url)
    assert "checked:    3 of 3 due" in only_site.log, only_site.log[-2000:]
    one = run_scrapy(["refresh", "--article", "20250213A06E5300"], archive, web.url)
    assert "checked:    1 of 1 due" in one.log
    none_due = run_scrapy(["refresh", "--older-than", "1d"], archive, web.url)
    assert "checked:    0 of 0 due" in none_due.log and none_due.returncode == 0
    limited = run_scrapy(["refresh", "--limit", "2"], archive, web.url)
    assert "checked:    2 of 2 due" in limited.log


def test_two_runs_on_one_archive_never_interleave(web, seeds, tmp_path):
    archive = tmp_path / "archive"
    run_crawl(archive, web.url, seeds=seeds)
    slow = copy.copy(web.pages[url("static")])
    slow.delay = 15
    web.pages[url("static")] = slow
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=web.url, https_proxy=web.url)
    # WARC files under their names (not a writer's .new-*.tmp before it has one)
    warcs = lambda: {p.name for p in (archive / "warc").iterdir() if ".warc.gz" in p.name  # noqa: E731
                     and not p.name.startswith(".")}
    first_warcs = warcs()
    try:
        holder = subprocess.Popen([sys.executable, "-m", "scrapy", "refresh", "-L", "INFO", "-s", f"ARCHIVE_DIR={archive}",
                                   "-s", "DOWNLOAD_DELAY=0", "-s", "RETRY_TIMES=0"], cwd=ROOT, env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.time() + 60
        while not (warcs() - first_warcs) and time.time() < deadline:
            time.sleep(0.1)  # the holder has the lock and is writing its WARC
        holders = warcs() - first_warcs
        before = snapshot(archive), (archive / "index.cdxj").read_bytes()
        second = run_scrapy(["refresh"], archive, web.url, settings={"ARCHIVE_LOCK_TIMEOUT": 1})
        after = snapshot(archive), (archive / "index.cdxj").read_bytes()
        new_warcs = warcs() - first_warcs
        holder_log = holder.communicate(timeout=120)[0]
    finally:
        web.pages[url("static")] = PAGES["static"]()
    assert second.returncode == 75, second.log[-2000:]
    assert "not started: archive" in second.log and "is in use by pid" in second.log
    assert "waited 1 s (ARCHIVE_LOCK_TIMEOUT)" in second.log
    # the second run touched nothing: no article, no index, no WARC of its own
    assert before == after
    assert len(holders) == 1 and new_warcs == holders, (holders, new_warcs)
    assert holder.returncode in (0, 1) and "refresh summary" in holder_log


# --- replay after refreshes: the latest capture of every article plays -------------

@pytest.fixture(scope="module")
def replay_after_refresh(runs, tmp_path_factory):
    from tests.fixtures import pywb

    venv = pywb.ensure_pywb()
    archive = runs["archive"]
    root = pywb.build_collection(venv, archive / "warc", tmp_path_factory.mktemp("pywb"), "crawl",
                                 index=archive / "index.cdxj")
    server = pywb.start_wayback(venv, root)
    try:
        yield server, pywb
    finally:
        server.stop()


def _body_text(headers, body: bytes) -> str:
    import gzip as gz

    if (headers.get("Content-Encoding") or "").lower() == "gzip":
        body = gz.decompress(body)
    return body.decode("utf-8", "replace")


@pytest.mark.parametrize("name", ["validators", "lastmod", "static", "chrome", "deleted", "qq"])
def test_pywb_serves_every_article_at_its_latest_capture(runs, replay_after_refresh, name):
    server, pywb = replay_after_refresh
    with open_store(runs["archive"]) as store:
        states = {s.source_url: s for s in store.all()}
    state = states[QQ_001.source_url] if name == "qq" else states[url(name)]
    text = frontmatter.load(runs["archive"] / state.path).content
    probe = [p for p in text.split("\n\n") if len(p) > 30 and not p.startswith(("!", "["))][1].replace("**", "")
    for when in ("", "2030id_/"):
        status, headers, body = pywb.get(f"{server.base}/crawl/{when}{state.url}")
        assert status == 200, (name, when, status, server.log())
        page = _body_text(headers, body)
        assert probe in __import__("html").unescape(page), (name, when)
    # the latest capture is the refresh's (a revisit for the 304 and identical cases)
    latest = [r for r in warc_records(runs["archive"]) if r["uri"] == state.url and r["type"] in ("response", "revisit")][-1]
    if name in ("validators", "lastmod", "static", "deleted"):
        assert latest["type"] == "revisit", (name, latest)


# --- history and diff on the refreshed archive ---------------------------------------

def test_history_lists_versions_newest_first(runs, web):
    result = run_scrapy(["history", QQ_001.source_url], runs["archive"], None)
    assert result.returncode == 0, result.log
    lines = result.log.splitlines()
    assert lines[1].startswith("articles/qq/20250210A05NRE00.md")
    assert "2 versions, newest first:" in result.log
    current = next(i for i, line in enumerate(lines) if line.strip().startswith("current"))
    older = next(i for i, line in enumerate(lines) if "versions/qq/20250210A05NRE00/" in line)
    assert current < older
    assert "1 paragraph changed (+1/-1 characters)" in lines[current + 1]
    assert "first capture" in lines[older + 1]
    by_id = run_scrapy(["history", "20250210A05NRE00"], runs["archive"], None)
    assert by_id.log == result.log


def test_diff_marks_the_corrected_character(runs, tmp_path):
    plain = run_scrapy(["diff", "20250210A05NRE00"], runs["archive"], None)
    assert plain.returncode == 0, plain.log
    assert "[-两-]{+三+}" in plain.log and "\x1b[" not in plain.log
    colour = run_scrapy(["diff", "20250210A05NRE00", "--color", "always"], runs["archive"], None)
    assert "\x1b[" in colour.log and "两" in colour.log
    page = tmp_path / "diff.html"
    run_scrapy(["diff", "articles/qq/20250210A05NRE00.md", "--from", "1", "--to", "0", "--html", str(page)],
               runs["archive"], None)
    from lxml import html as lxml_html

    tree = lxml_html.fromstring(page.read_text(encoding="utf-8"))
    assert [d.text_content() for d in tree.iter("del")] == ["两"]
    assert [i.text_content() for i in tree.iter("ins")] == ["三"]


def test_diff_live_compares_without_storing(runs, web):
    archive = runs["archive"]
    before = snapshot(archive), sorted(p.name for p in (archive / "warc").iterdir())
    live = run_scrapy(["diff", "20250210A05NRE00", "--live"], archive, web.url)
    assert live.returncode == 0, live.log[-3000:]
    assert "no change in the article text" in live.log
    against_old = run_scrapy(["diff", "20250210A05NRE00", "--live", "--from", "1"], archive, web.url)
    assert "[-两-]{+三+}" in against_old.log
    assert (snapshot(archive), sorted(p.name for p in (archive / "warc").iterdir())) == before


# --- history stays clean ---------------------------------------------------------------

def test_one_page_under_three_spellings_is_one_article(web, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    base = url("static")
    (seeds / "spellings.md").write_text(
        f"- [a]({base})\n- [b]({base}#comments)\n- [c]({base}?utm_source=x&utm_medium=social)\n", encoding="utf-8")
    result = run_crawl(tmp_path / "archive", web.url, seeds=seeds)
    assert result.returncode == 0, result.log[-3000:]
    files = list((tmp_path / "archive" / "articles").rglob("*.md"))
    assert len(files) == 1, files
    assert result.log.count("is the same article as") == 2


def test_a_crawl_never_archives_the_front_page_in_place_of_an_article(web, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "one.md").write_text(f"[x]({url('chrome')})\n", encoding="utf-8")
    archive = tmp_path / "archive"
    assert run_crawl(archive, web.url, seeds=seeds).returncode == 0
    stored = next((archive / "articles").rglob("*.md")).read_bytes()
    saved = web.pages[url("chrome")]
    web.pages[url("chrome")] = Page(status=301, headers=[("Location", f"{HOST}/")])
    try:
        again = run_crawl(archive, web.url, seeds=seeds)
    finally:
        web.pages[url("chrome")] = saved
    assert again.returncode == 1 and f"redirected away to {HOST}/" in again.log
    assert [p.read_bytes() for p in (archive / "articles").rglob("*.md")] == [stored]
    assert not (archive / "versions").exists()


def test_a_version_written_by_a_killed_run_is_recorded_by_the_next(web, qq_seeds_dir, tmp_path):
    """A run killed after replacing an article but before recording it: the
    next run finds the new text on disk and records the change it missed."""
    archive = tmp_path / "archive"
    saved = web.pages[QQ_001.source_url]
    web.pages[QQ_001.source_url] = build_site()[QQ_001.source_url]  # the page before its correction
    assert run_crawl(archive, web.url, seeds=qq_seeds_dir).returncode == 0
    rel = "articles/qq/20250210A05NRE00.md"
    old = (archive / rel).read_text(encoding="utf-8")
    # what the killed run left: the old copy kept, the new one in place, nothing recorded
    (archive / "versions/qq/20250210A05NRE00").mkdir(parents=True)
    (archive / "versions/qq/20250210A05NRE00/20250101T000000Z.md").write_text(old, encoding="utf-8")
    (archive / rel).write_text(old.replace("仅用两个月", "仅用三个月"), encoding="utf-8")
    web.pages[QQ_001.source_url] = Page(body=corrected_001(), chunked=True)
    try:
        again = run_crawl(archive, web.url, seeds=qq_seeds_dir)
        third = run_crawl(archive, web.url, seeds=qq_seeds_dir)  # the run after: nothing more to record
    finally:
        web.pages[QQ_001.source_url] = saved
    assert "new version of articles/qq/20250210A05NRE00.md was written but never recorded" in again.log
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text().splitlines()]
    late = [e for e in events if e["event"] == "changed"]
    assert len(late) == 1 and late[0]["recorded_late"] is True
    assert late[0]["previous_version"] == "versions/qq/20250210A05NRE00/20250101T000000Z.md"
    assert late[0]["counts"]["chars_added"] == 1
    assert "never recorded" not in third.log
    assert len([line for line in (archive / "changes.jsonl").read_text().splitlines() if '"changed"' in line]) == 1


def test_refresh_of_an_article_the_archive_does_not_have_exits_1(runs):
    result = run_scrapy(["refresh", "--article", "https://news.example/never-archived.html"], runs["archive"], None)
    assert result.returncode == 1
    assert "no archived article matches 'https://news.example/never-archived.html'" in result.log


def test_a_redirect_to_another_article_is_gone_one_to_the_same_article_is_not(web, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "two.md").write_text(f"- [a]({url('renamed')})\n- [b]({url('victim')})\n", encoding="utf-8")
    web.pages[url("renamed")] = Page(body=news("Quay wall repaired"))
    web.pages[url("victim")] = Page(body=news("Pilot boat strike ends"))
    archive = tmp_path / "archive"
    assert run_crawl(archive, web.url, seeds=seeds).returncode == 0
    before = snapshot(archive)
    # the site moves one article to a new address, and sends the other's readers to a third one
    web.pages[url("renamed")] = Page(status=301, headers=[("Location", url("renamed-2025"))])
    web.pages[url("renamed-2025")] = Page(body=news("Quay wall repaired"))
    web.pages[url("victim")] = Page(status=301, headers=[("Location", url("tram"))])
    web.pages[url("tram")] = Page(body=news("Tram line delayed", [  # another story: other text
        "The tram line to the airport will open six months late, the transport authority said.",
        "Contractors blamed a shortage of steel and a dispute over the signalling system."]))
    result = run_scrapy(["refresh"], archive, web.url)
    assert result.returncode == 0, result.log[-3000:]
    summary = result.log[result.log.index("refresh summary"):]
    assert "unchanged:  1" in summary and "gone:       1" in summary and "changed:    0" in summary
    assert f"gone: {url('victim')}: redirected away to {url('tram')} (another article: 'Tram line delayed'" in result.log
    assert snapshot(archive) == before  # nothing rewritten, no version


def test_refresh_of_no_archive_exits_1_and_makes_none(tmp_path):
    missing = tmp_path / "typo"
    result = run_scrapy(["refresh"], missing, None)
    assert result.returncode == 1 and "not started: no archive at" in result.log
    assert not missing.exists()
    bad_limit = run_scrapy(["refresh", "--limit", "0"], missing, None)
    assert bad_limit.returncode == 2 and "--limit takes a count of articles" in bad_limit.log


def test_an_archive_path_that_is_a_file_is_said_plainly(tmp_path, qq_seeds_dir):
    not_a_folder = tmp_path / "archive"
    not_a_folder.write_text("oops")
    result = run_crawl(not_a_folder, None, seeds=qq_seeds_dir)
    assert result.returncode == 1 and f"not started: archive {not_a_folder} is a file, not a folder" in result.log
    assert "Traceback" not in result.log
