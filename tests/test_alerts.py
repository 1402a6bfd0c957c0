"""Change alerts: one notification per run through Apprise, and archive/changes.atom.

Real ``scrapy crawl qq`` and ``scrapy refresh`` subprocesses against the
fixture web (a forward proxy on 127.0.0.1). Notifications go to Apprise's
``json://127.0.0.1:PORT/...`` target, received by a small HTTP server this
test starts on 127.0.0.1; a second target is a closed port on 127.0.0.1.
The first crawl archives a qq article and two news pages; then the qq
article is corrected by one character and one news page is deleted, and a
refresh runs; a last refresh finds nothing new.
"""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import PurePosixPath

import feedparser
import pytest

from crawler.archive.changelog import ChangeLog
from crawler.archive.storage import ArchiveStore
from crawler.exports.alerts import atom_feed, message
from crawler.extensions.notify import parse_urls
from tests.conftest import SEEDS, run_crawl, run_scrapy
from tests.fixtures.qq_site import Page, build_site
from tests.fixtures.server import FixtureProxy, free_port
from tests.test_refresh import QQ_001, TEXT, corrected_001, news, url

SITE = "https://archive.example.org/news/"
QQ_ARTICLE = "articles/qq/20250210A05NRE00.md"


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps every POST (path, JSON body)."""

    def __init__(self):
        received = self.received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def posts(self, path: str) -> list[dict]:
        return [body for p, body in self.received if p == path]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def stats_value(log: str, key: str):
    """A value from the stats Scrapy dumps when the spider closes."""
    found = re.search(rf"'{re.escape(key)}': (\d+)", log[log.rindex("Dumping Scrapy stats"):])
    return int(found.group(1)) if found else None


def read_feed(archive) -> bytes | None:
    path = archive / "changes.atom"
    return path.read_bytes() if path.exists() else None


def events_of(archive) -> list[dict]:
    return [json.loads(line) for line in (archive / "changes.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    pages = build_site()
    for name in ("kept", "deleted"):
        pages[url(name)] = Page(body=news(f"Story {name}"))
    web = FixtureProxy(pages).start()
    receiver = Receiver()
    dead = free_port()  # nothing listens on it
    seeds = tmp_path_factory.mktemp("seeds")
    (seeds / "001_7e5bc8a25ec71449.txt").write_bytes((SEEDS / "001_7e5bc8a25ec71449.txt").read_bytes())
    (seeds / "note.md").write_text(f"# Port news\n\n- [kept]({url('kept')})\n- [deleted]({url('deleted')})\n",
                                   encoding="utf-8")
    archive = tmp_path_factory.mktemp("archive")
    # the notifications go straight to 127.0.0.1, not through the fixture web's proxy
    env = {"no_proxy": "127.0.0.1"}
    try:
        first = run_crawl(archive, web.url, seeds=seeds, env_extra=env,
                          settings={"NOTIFY_URLS": f"json://127.0.0.1:{receiver.port}/first"})
        assert first.returncode == 0, first.log[-4000:]
        events_first = events_of(archive)
        feed_first = read_feed(archive)
        # the web changes: one character corrected, one story deleted
        web.pages[QQ_001.source_url] = Page(body=corrected_001())
        del web.pages[url("deleted")]
        web.not_modified.clear()
        targets = f"json://127.0.0.1:{receiver.port}/refresh json://127.0.0.1:{dead}/dead"
        second = run_scrapy(["refresh"], archive, web.url, env_extra=env,
                            settings={"NOTIFY_URLS": targets, "SITE_BASE_URL": SITE})
        events_second = events_of(archive)
        feed_second = read_feed(archive)
        # nothing changes any more
        third = run_scrapy(["refresh"], archive, web.url, env_extra=env,
                           settings={"NOTIFY_URLS": f"json://127.0.0.1:{receiver.port}/third"})
        yield {"web": web, "archive": archive, "first": first, "second": second, "third": third, "receiver": receiver,
               "dead": dead, "events_first": events_first, "events_second": events_second,
               "feed_first": feed_first, "feed_second": feed_second}
    finally:
        receiver.stop()
        web.stop()


def test_refresh_sends_one_notification_naming_the_changed_article_with_counts_and_links(runs):
    receiver, log = runs["receiver"], runs["second"].log
    posts = receiver.posts("/refresh")
    assert len(posts) == 1, receiver.received  # one per run, however many events
    note = posts[0]
    assert note["title"] == "news archive refresh: 1 changed, 1 gone"
    body = note["message"]
    changed = [e for e in runs["events_second"] if e["event"] == "changed"]
    assert len(changed) == 1 and changed[0]["article"] == QQ_ARTICLE
    title = changed[0]["title"]
    assert f"- {title}: 1 paragraph changed, +1/-1 characters" in body
    # links into the Hugo site: the article's page and the diff of the replaced version
    stamp = PurePosixPath(changed[0]["previous_version"]).stem
    assert f"  article: {SITE}qq/20250210A05NRE00/" in body
    assert f"  diff: {SITE}diffs/qq/20250210A05NRE00/{stamp}.html" in body
    assert f"  source: {QQ_001.source_url}" in body
    assert "gone (1):" in body and f"  source: {url('deleted')}" in body
    assert "newly archived" not in body
    assert stats_value(log, "notify/events") == 2 and stats_value(log, "notify/sent") == 1


def test_the_diff_link_is_the_page_the_hugo_export_writes(runs):
    """The link names the diff page crawler/exports/hugo.py makes for that version."""
    from scrapy.utils.project import get_project_settings

    from crawler.exports.hugo import HugoSite

    settings = get_project_settings()
    settings.set("ARCHIVE_DIR", str(runs["archive"]))
    HugoSite.from_settings(settings).generate()
    body = runs["receiver"].posts("/refresh")[0]["message"]
    diff = re.search(rf"  diff: {re.escape(SITE)}(\S+)", body).group(1)
    assert (runs["archive"] / "site" / "static" / diff).is_file()


def test_a_failing_target_is_logged_and_counted_and_never_fails_the_run(runs):
    second = runs["second"]
    assert second.returncode == 0, second.log[-4000:]  # a changed and a gone article: a good run
    assert f"change notification not sent to json://127.0.0.1:{runs['dead']}/dead" in second.log
    assert stats_value(second.log, "notify/failed") == 1
    assert stats_value(second.log, "notify/sent") == 1  # the other target still got it


def test_first_crawl_notifies_how_many_were_newly_archived(runs):
    posts = runs["receiver"].posts("/first")
    assert len(posts) == 1
    archived = [e for e in runs["events_first"] if e["event"] == "archived"]
    assert len(archived) == 3
    assert posts[0]["title"] == "news archive crawl: 3 newly archived"
    assert "newly archived: 3" in posts[0]["message"]


def test_nothing_changed_no_notification_and_the_feed_left_alone(runs):
    third = runs["third"]
    assert third.returncode == 0, third.log[-4000:]
    assert events_of(runs["archive"]) == runs["events_second"]  # no event this run
    assert runs["receiver"].posts("/third") == []
    assert "no change recorded this run: no notification sent" in third.log
    assert stats_value(third.log, "notify/sent") is None and stats_value(third.log, "notify/failed") is None
    assert (runs["archive"] / "changes.atom").read_bytes() == runs["feed_second"]


def assert_feed_is_the_log(feed: bytes, events: list[dict], site: str = ""):
    parsed = feedparser.parse(feed)
    assert not parsed.bozo, parsed.bozo_exception
    newest_first = list(reversed(events))
    assert len(parsed.entries) == len(newest_first)
    for entry, event in zip(parsed.entries, newest_first):
        assert json.loads(entry.content[0].value) == event  # the event itself, whole
        assert entry.updated_parsed[:6] == tuple(int(x) for x in re.findall(r"\d+", event["time"]))[:6]
        assert [tag.term for tag in entry.tags] == [event["event"]]
        assert entry.title == f"{event['event']}: {event['title']}"
        assert entry.link == (f"{site}{event['article'][len('articles/'):-len('.md')]}/" if site
                              else event["url"])
    ids = [entry.id for entry in parsed.entries]
    assert len(set(ids)) == len(ids)
    return parsed


def test_the_atom_feed_equals_the_change_log_newest_first(runs):
    assert_feed_is_the_log(runs["feed_first"], runs["events_first"])
    parsed = assert_feed_is_the_log(runs["feed_second"], runs["events_second"], SITE)
    assert {e.tags[0].term for e in parsed.entries[:2]} == {"changed", "gone"}  # this run's, first
    # the entry of an event keeps its id from one rewrite to the next
    first_ids = [e.id for e in feedparser.parse(runs["feed_first"]).entries]
    assert [e.id for e in parsed.entries][-len(first_ids):] == first_ids
    assert stats_value(runs["second"].log, "feed/entries") == len(runs["events_second"])


def test_the_feed_keeps_the_last_events_only(tmp_path):
    log = ChangeLog(ArchiveStore(tmp_path))
    for i in range(250):
        log.append({"time": f"2026-12-0{1 + i // 60 % 9}T10:{i % 60:02d}:00Z", "event": "changed",
                    "url": f"https://news.example/{i}.html", "article": f"articles/web/{i:04d}.md",
                    "title": f"Story {i}\u2028with a line separator",
                    "counts": {"paragraphs_changed": 1, "chars_added": i, "chars_removed": 0}})
    last = log.last(200, block=512)  # read from the end, block by block
    assert last == list(log.events())[-200:]
    assert_feed_is_the_log(atom_feed(last, "urn:uuid:0"), last)


def test_the_notification_names_files_without_a_site_and_nothing_without_events():
    event = {"time": "2026-12-06T09:00:00Z", "event": "changed", "url": "https://news.example/a.html",
             "article": "articles/web/0123456789abcdef.md", "title": "A story",
             "previous_version": "versions/web/0123456789abcdef/20261205T080000Z.md",
             "counts": {"paragraphs_changed": 2, "paragraphs_added": 1, "chars_added": 10, "chars_removed": 3}}
    title, body = message([event, {"event": "archived", "article": "articles/web/b.md"}], run="refresh")
    assert title == "news archive refresh: 1 changed, 1 newly archived"
    assert "- A story: 2 paragraphs changed, 1 paragraph added, +10/-3 characters" in body
    assert "  article: articles/web/0123456789abcdef.md" in body
    assert ("  diff: scrapy diff 0123456789abcdef  (previous copy: "
            "versions/web/0123456789abcdef/20261205T080000Z.md)") in body
    assert message([], run="refresh") is None


def test_notify_urls_from_the_command_line():
    assert parse_urls("") == []
    assert parse_urls(["json://a/b"]) == ["json://a/b"]
    assert parse_urls("json://a/b ntfy://topic,mailto://u:p@example.org?to=x@y.org,z@y.org") == [
        "json://a/b", "ntfy://topic", "mailto://u:p@example.org?to=x@y.org,z@y.org"]
    assert parse_urls('["json://a/b", "tgram://bot/chat"]') == ["json://a/b", "tgram://bot/chat"]


#: Loaded by the refresh below through PYTHONPATH: a gone article's outcome
#: takes 2 s to record in the archive I/O thread (a slow shared filesystem).
SLOW_GONE = """
import time
import crawler.extensions.state as _state
_gone = _state.ArchiveStateRecorder._gone

def _slow_gone(self, *args):
    time.sleep(2)
    return _gone(self, *args)
_state.ArchiveStateRecorder._gone = _slow_gone
"""


def test_the_notification_and_feed_wait_for_outcomes_still_being_recorded(runs, tmp_path):
    """A gone article is recorded in the archive I/O thread, after its
    signal; the run's notification and feed still have it."""
    from tests.conftest import ROOT

    web, receiver = runs["web"], runs["receiver"]
    archive = tmp_path / "archive"
    shutil.copytree(runs["archive"], archive)
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SLOW_GONE, encoding="utf-8")
    page = web.pages.pop(url("kept"))
    try:
        result = run_scrapy(["refresh"], archive, web.url,
                            env_extra={"no_proxy": "127.0.0.1", "PYTHONPATH": f"{site}:{ROOT}"},
                            settings={"NOTIFY_URLS": f"json://127.0.0.1:{receiver.port}/slow"})
    finally:
        web.pages[url("kept")] = page
    assert result.returncode == 0, result.log[-4000:]
    assert events_of(archive)[-1]["event"] == "gone" and events_of(archive)[-1]["url"] == url("kept")
    posts = receiver.posts("/slow")
    assert len(posts) == 1 and posts[0]["title"] == "news archive refresh: 1 gone"
    assert f"  source: {url('kept')}" in posts[0]["message"]
    assert_feed_is_the_log(read_feed(archive), events_of(archive))


def test_a_shared_refresh_notifies_once_from_the_last_worker_with_every_worker_s_events(runs, tmp_path):
    """Two ``scrapy refresh`` workers of one shared run on a redis-server on
    127.0.0.1: one notification, sent by the worker that closes the run,
    with the events of the whole run; the feed has them all too."""
    pytest.importorskip("redis")
    from tests.test_distributed import WORKER_SETTINGS, start_redis, worker_env

    web, receiver = runs["web"], runs["receiver"]
    archive = tmp_path / "archive"
    shutil.copytree(runs["archive"], archive)
    before = len(events_of(archive))
    # the deleted story is back; the other one is edited
    web.pages[url("deleted")] = Page(body=news("Story deleted"))
    edited = TEXT[:3] + ["Construction is due to start in the autumn and the first berth should open within four years."]
    web.pages[url("kept")] = Page(body=news("Story kept", text=edited))
    web.not_modified.clear()
    (tmp_path / "redis").mkdir()
    redis_proc, port = start_redis(tmp_path / "redis")
    env = {**worker_env(web.url), "no_proxy": "127.0.0.1"}
    procs = []
    try:
        for i in range(2):
            folder = tmp_path / f"worker{i}"
            folder.mkdir()
            cmd = [sys.executable, "-m", "scrapy", "refresh", "-L", "INFO", "-s", f"ARCHIVE_DIR={archive}",
                   "-s", f"REDIS_URL=redis://127.0.0.1:{port}/0", "-s", "REDIS_KEY_PREFIX=alerts",
                   "-s", "REDIS_RUN_ID=alerts", "-s", f"NOTIFY_URLS=json://127.0.0.1:{receiver.port}/shared"]
            for key, value in WORKER_SETTINGS.items():
                cmd += ["-s", f"{key}={value}"]
            procs.append(subprocess.Popen(cmd, cwd=folder, env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True))
        results = [(proc.wait(180), proc.stdout.read()) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        redis_proc.terminate()
        redis_proc.wait(10)
    for code, log in results:
        assert code == 0, log[-4000:]
    run_events = events_of(archive)[before:]
    kinds = sorted(e["event"] for e in run_events)
    assert kinds == ["back", "changed"], run_events
    posts = receiver.posts("/shared")
    assert len(posts) == 1, receiver.received
    assert posts[0]["title"] == "news archive shared refresh: 1 changed, 1 back"
    assert "- Story kept: " in posts[0]["message"] and "- Story deleted: answers again" in posts[0]["message"]
    senders = [log for _, log in results if "change notification sent to" in log]
    assert len(senders) == 1  # the last worker out, after writing the state back
    assert senders[0].index("capture state written back") < senders[0].index("change notification sent to")
    assert_feed_is_the_log(read_feed(archive), events_of(archive))
