"""A shared run's start and its one outcome, through real workers.

Issue 19 ("Trustworthy history"), items 4 and 5, and ``diff --live`` beside
a shared crawl: real ``scrapy refresh`` workers on a real ``redis-server``
(127.0.0.1) over copies of one small archive that a single-machine crawl of
a generated fixture web made.

* The seeder loads the capture state off the reactor, once per run: a state
  rebuild slower than the lease no longer lets a second worker take over and
  load a half-built database (nor move it aside as damaged).
* Every worker exits, and ``scrapy summary`` reports, by the same failures
  as a single-machine run (one list: crawler.core.failures.RUN_FAILURE_STATS):
  an unknown ``--article`` on the seeder fails the whole run. With
  ``WACZ_ON_CLOSE`` only the last worker packs, after the state is written
  back.
* ``scrapy diff --live`` works with ``REDIS_URL`` set, and says what a
  non-text answer is.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

from crawler.state.open import open_store  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.fixtures.news_web import article_url, generated_pages, write_seeds  # noqa: E402
from tests.fixtures.qq_site import PNG, Page  # noqa: E402
from tests.fixtures.server import FixtureProxy  # noqa: E402
from tests.test_distributed import finish, start_redis, start_worker, summary_command, worker_env  # noqa: E402

PAGES = 30
#: Short leases, as a run with a slow start meets them.
LEASE = {"REDIS_LEASE_TIMEOUT": 2, "REDIS_HEARTBEAT_INTERVAL": 0.5}

#: Loaded by every worker started with this folder on PYTHONPATH: with
#: TEST_REBUILD_PUT_DELAY set, a state rebuild waits that long after each row
#: it writes (a big archive on a slow shared filesystem, in a few seconds);
#: with TEST_STATE_ERROR_URL, that article's outcome is not recorded.
SLOW_REBUILD = '''
import os, time
_delay = float(os.environ.get("TEST_REBUILD_PUT_DELAY") or 0)
if _delay:
    import crawler.state.rebuild as _rebuild
    _original = _rebuild.rebuild_into

    def _slow_rebuild_into(store, root):
        put = store.put

        def slow_put(state):
            put(state)
            time.sleep(_delay)
        store.put = slow_put
        try:
            return _original(store, root)
        finally:
            del store.put
    _rebuild.rebuild_into = _slow_rebuild_into
# with TEST_STATE_ERROR_URL set, that article's outcome cannot be recorded (state/errors)
_unrecordable = os.environ.get("TEST_STATE_ERROR_URL")
if _unrecordable:
    import crawler.extensions.state as _state
    _record = _state.ArchiveStateRecorder.record_article

    def _failing_record_article(self, item):
        if item.get("source_url") == _unrecordable:
            raise OSError("injected: the state cannot be written")
        return _record(self, item)
    _state.ArchiveStateRecorder.record_article = _failing_record_article
'''


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def web():
    proxy = FixtureProxy(generated_pages(PAGES)).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def base(web, tmp_path_factory):
    """An archive of PAGES generated articles and the 3 qq ones, by a single-machine crawl."""
    folder = tmp_path_factory.mktemp("outcome")
    urls = write_seeds(folder / "seeds", PAGES)
    archive = folder / "archive"
    result = scrapy(folder, ["crawl", "qq", "-a", f"seeds={folder / 'seeds'}"], archive, web.url)
    assert result.returncode == 0, result.stdout[-4000:]
    with open_store(archive) as store:
        assert store.count() == len(urls)
    (folder / "site").mkdir()
    (folder / "site" / "sitecustomize.py").write_text(SLOW_REBUILD, encoding="utf-8")
    return {"folder": folder, "archive": archive, "urls": urls}


def scrapy(cwd: Path, args: list[str], archive: Path, proxy_url: str | None, **settings):
    cmd = [sys.executable, "-m", "scrapy", *args, "-L", "INFO", "-s", f"ARCHIVE_DIR={archive}", "-s", "DOWNLOAD_DELAY=0",
           "-s", "RETRY_TIMES=0", "-s", "EXTRACTION_WORKERS=1", "-s", "BROWSER_RENDER=never"]
    for key, value in settings.items():
        cmd += ["-s", f"{key}={value}"]
    return subprocess.run(cmd, cwd=cwd, env=worker_env(proxy_url), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=120)


def archive_copy(base, tmp_path) -> Path:
    archive = tmp_path / "archive"
    shutil.copytree(base["archive"], archive)
    return archive


def workers(tmp_path, base, args, archive, redis_url, prefix, web, count=2, gap=0.3, env=None, **settings):
    """``count`` workers of one shared run, started ``gap`` seconds apart."""
    procs = []
    saved = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        for i in range(count):
            procs.append(start_worker(tmp_path, f"worker{i}", args, archive, redis_url, prefix, web.url,
                                      **{**LEASE, **settings}))
            time.sleep(gap)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return finish(procs, timeout=120)


def utcnow() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- item 4: the start of a shared run -----------------------------------------------

def test_a_load_goes_in_only_while_its_claim_is_held_and_once_per_run(redis_url, tmp_path):
    from crawler.distributed.store import ClaimLost, RedisStore
    from tests.test_distributed import state

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    archive = tmp_path / "archive"
    with open_store(archive) as sqlite:
        sqlite.put(state("A", "articles/qq/A.md"))
        sqlite.put(state("B", "articles/qq/B.md"))
    shared = RedisStore(client, "t")
    shared.put(state("OLD", "articles/qq/OLD.md"))
    client.set("t:seeder", "other-worker")  # the claim lapsed and another worker took it
    with pytest.raises(ClaimLost):
        shared.load(archive, "run-1", claim=("t:seeder", "me"))
    assert [s.key for s in shared.all()] == ["OLD"] and shared.loaded_for() is None
    assert not client.keys("t:state:*:load:*")  # nothing staged left behind
    client.set("t:seeder", "me")
    assert shared.load(archive, "run-1", claim=("t:seeder", "me")) == 2
    assert [s.key for s in shared.all()] == ["A", "B"] and shared.loaded_for() == "run-1"
    assert client.ttl("t:state:articles") == client.ttl("t:state:paths") == -1  # staged with a TTL, kept without
    shared.put(state("C", "articles/qq/C.md"))  # the run's own work
    assert shared.load(archive, "run-1", claim=("t:seeder", "me")) == 3  # loaded once: kept
    assert shared.get("C") is not None
    client.close()


def test_a_state_rebuild_slower_than_the_lease_is_loaded_once_and_nothing_is_dropped(base, web, redis_url,
                                                                                    tmp_path):
    archive = archive_copy(base, tmp_path)
    for path in archive.glob("state.sqlite3*"):
        path.unlink()  # the first worker rebuilds it: about 4 s, twice the lease
    time.sleep(1.1)  # last_checked has whole seconds
    started = utcnow()
    before = len(web.requests)
    site = str(base["folder"] / "site")
    results = workers(tmp_path, base, ["refresh"], archive, redis_url, "start4", web, gap=0.3,
                      env={"TEST_REBUILD_PUT_DELAY": "0.12",
                           "PYTHONPATH": os.pathsep.join([site, str(ROOT)])},
                      REDIS_RUN_ID="start")
    logs = [log for _, log in results]
    for code, log in results:
        assert code == 0, log[-5000:]
    n = len(base["urls"])
    # one worker loaded (and rebuilt) the state, once; nobody took the half-built file for a damaged one
    assert sum(log.count("capture state loaded into Redis for shared run") for log in logs) == 1, \
        [line for log in logs for line in log.splitlines() if "capture state" in line]
    assert sum(log.count("capture state rebuilt from") for log in logs) == 1
    assert not list(archive.glob("state.sqlite3.damaged-*"))
    assert not any("is damaged" in log for log in logs)
    asked = [url for url, _ in web.requests[before:]]
    for url in base["urls"]:
        assert asked.count(url) == 1, (url, asked.count(url))
    with open_store(archive, rebuild_missing=False) as store:  # every row written back, every check in it
        states = list(store.all())
    assert len(states) == n
    assert all(s.last_checked and s.last_checked >= started for s in states), \
        [(s.path, s.last_checked) for s in states if not s.last_checked or s.last_checked < started]


# --- item 5: one outcome for the run ------------------------------------------------

def test_an_unknown_article_fails_every_worker_and_the_summary_and_only_the_last_worker_packs(
        base, web, redis_url, tmp_path):
    archive = archive_copy(base, tmp_path)
    known = article_url(3)
    page = web.pages[known]
    web.pages[known] = dataclasses.replace(page, delay=3)  # the second worker joins while it is fetched
    try:
        args = ["refresh", "--article", "https://nowhere.example/no-such-article", "--article", known]
        results = workers(tmp_path, base, args, archive, redis_url, "outcome5", web, gap=0.3,
                          REDIS_RUN_ID="unknown", WACZ_ON_CLOSE=True)
    finally:
        web.pages[known] = page
    logs = [log for _, log in results]
    assert sum("started shared run unknown" in log for log in logs) == 1
    assert sum("joined shared run unknown" in log for log in logs) >= 1  # as below: both, on a loaded machine
    # a single-machine run exits 1 for an unknown --article; so does every worker of a shared one
    assert [code for code, _ in results] == [1, 1], [log[-3000:] for log in logs]
    summary = summary_command(archive, redis_url, "outcome5", "refresh")
    assert summary.returncode == 1, summary.stdout + summary.stderr
    assert "checked:    1 of 1 due" in summary.stdout and "refresh/unknown_article 1" in summary.stdout
    # WACZ_ON_CLOSE: packed once, by the worker that wrote the state back, after it did
    packers = [log for log in logs if "WACZ written" in log]
    assert len(packers) == 1, [log[-2000:] for log in logs]
    assert packers[0].index("capture state written back") < packers[0].index("WACZ written")
    assert (archive / "wacz" / "archive.wacz").is_file()


def test_a_state_error_on_any_worker_fails_every_worker_and_the_summary(base, web, redis_url, tmp_path):
    seeds, archive = base["folder"] / "seeds", tmp_path / "archive"
    slow, unrecordable = article_url(3), article_url(8)
    page = web.pages[slow]
    web.pages[slow] = dataclasses.replace(page, delay=3)  # the second worker joins while it is fetched
    site = str(base["folder"] / "site")
    try:
        results = workers(tmp_path, base, ["crawl", "qq", "-a", f"seeds={seeds}"], archive, redis_url,
                          "stateerr", web, gap=0.3, REDIS_RUN_ID="stateerr",
                          env={"TEST_STATE_ERROR_URL": unrecordable,
                               "PYTHONPATH": os.pathsep.join([site, str(ROOT)])})
    finally:
        web.pages[slow] = page
    logs = [log for _, log in results]
    # the second worker joined the run; on a loaded machine both workers' logs have said so (a
    # fresh-clone run, 2026-12-07): the line says only that requests were waiting at the start
    assert sum("joined shared run stateerr" in log for log in logs) >= 1
    assert sum(f"state not recorded for {unrecordable}: OSError" in log for log in logs) == 1
    assert [code for code, _ in results] == [1, 1], [log[-3000:] for log in logs]
    summary = summary_command(archive, redis_url, "stateerr", "qq")
    assert summary.returncode == 1, summary.stdout + summary.stderr
    assert "failed:     0" in summary.stdout and "run failures (exit status 1): state/errors 1" in summary.stdout


def test_an_unchanged_gone_or_failed_outcome_not_recorded_counts_as_a_state_error(tmp_path):
    """As an archived article's (state/errors, exit 1); Scrapy only logged a signal handler's error."""
    from scrapy.utils.test import get_crawler

    from crawler.commands.runner import run_status
    from crawler.extensions.state import ArchiveStateRecorder

    class Unwritable:
        def get(self, key):
            raise OSError("disk full")

        def close(self):
            pass

    crawler = get_crawler(settings_dict={"ARCHIVE_DIR": str(tmp_path / "archive"),
                                         "EXTENSIONS": {"crawler.extensions.archiveio.ArchiveIO": 0}})
    recorder = ArchiveStateRecorder(crawler, store=Unwritable())
    url = "https://news0.example/2025/03/story-0001.html"
    recorder.article_unchanged(url, key="k", capture={}, validators={})
    recorder.article_gone(url, key="k", reason="HTTP 404")
    recorder.url_failed(url, "HTTP 500")
    recorder.drain()  # recorded in the archive I/O thread
    assert crawler.stats.get_value("state/errors") == 3
    crawler.stats.set_value("finish_reason", "finished")
    crawler.stats.set_value("archive/seed_urls_failed", 0)
    assert run_status(crawler, type("Process", (), {"bootstrap_failed": False})()) == 1


def test_a_single_machine_refresh_fails_an_unknown_article_as_the_shared_run_does(base, web, tmp_path):
    archive = archive_copy(base, tmp_path)
    result = scrapy(tmp_path, ["refresh", "--article", "https://nowhere.example/no-such-article", "--article",
                               article_url(3)], archive, web.url)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "no archived article matches 'https://nowhere.example/no-such-article'" in result.stdout


# --- item 6 (part): diff --live beside a shared crawl ------------------------------------

def test_diff_live_works_with_redis_url_set_and_names_a_non_text_answer(base, web, redis_url, tmp_path):
    archive = base["archive"]  # read only: diff stores nothing
    url = article_url(5)
    live = scrapy(tmp_path, ["diff", url, "--live"], archive, web.url, REDIS_URL=redis_url)
    assert live.returncode == 0, live.stdout[-3000:]
    assert "no change in the article text" in live.stdout
    page = web.pages[url]
    try:
        web.pages[url] = Page(body=PNG, content_type="image/png")
        image = scrapy(tmp_path, ["diff", url, "--live"], archive, web.url, REDIS_URL=redis_url)
        web.pages[url] = Page(body=b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" * 20)  # as text/html
        pdf = scrapy(tmp_path, ["diff", url, "--live"], archive, web.url)
    finally:
        web.pages[url] = page
    assert image.returncode != 0 and f"live page {url} not fetched: not an HTML page: an image (image/png" \
        in image.stdout, image.stdout[-3000:]
    assert pdf.returncode != 0 and "not an HTML page: a PDF (text/html" in pdf.stdout, pdf.stdout[-3000:]
    assert "Traceback" not in image.stdout + pdf.stdout
