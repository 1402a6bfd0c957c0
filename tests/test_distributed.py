"""A shared crawl on Redis: several workers, one archive, nothing lost when one dies.

A real ``redis-server`` on 127.0.0.1 (its own port, no persistence, in a
temporary folder). The components are tested on their own (the leased
queue, the Redis state store against the SQLite one, joining a run, the
locks, the run-wide outcomes, the add-on); then real ``scrapy crawl qq`` and
``scrapy refresh`` workers, three at a time, each from its own working
folder, crawl a generated fixture web of a few hundred pages into one
archive, one of them killed with SIGKILL in the middle.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")

import scrapy  # noqa: E402
from scrapy.utils.test import get_crawler  # noqa: E402
from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from crawler.archive.lock import ArchiveLocked  # noqa: E402
from crawler.distributed.run import Keys, RunFinished, SharedRun, join  # noqa: E402
from crawler.state.model import ArticleState  # noqa: E402
from crawler.state.open import find, open_store
from crawler.state.sqlite import StateStore
from tests.conftest import ROOT  # noqa: E402
from tests.fixtures.news_web import article_url, generated_pages, write_seeds  # noqa: E402
from tests.fixtures.server import FixtureProxy, free_port  # noqa: E402

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
#: Short leases so that a killed worker's requests come back within seconds.
LEASE = {"REDIS_LEASE_TIMEOUT": 6, "REDIS_HEARTBEAT_INTERVAL": 1}
PAGES = 240


def start_redis(folder: Path) -> tuple[subprocess.Popen, int]:
    """A redis-server on 127.0.0.1 (a free port, no persistence), answering
    PING; the process and its port."""
    if not os.path.exists(REDIS_SERVER):
        pytest.fail("redis-server is not installed (apt-get install redis-server)")
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(folder)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    client = redis.Redis(host="127.0.0.1", port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.05)
    proc.kill()
    pytest.fail("redis-server did not start")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def client(redis_url):
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.close()


class Demo(scrapy.Spider):
    name = "demo"

    def parse(self, response):
        pass


def shared_crawler(redis_url, tmp_path, spidercls=Demo, run_id="r1", **settings):
    values = {"REDIS_URL": redis_url, "REDIS_RUN_ID": run_id, "ARCHIVE_DIR": str(tmp_path / "archive"),
              "REDIS_KEY_PREFIX": "t", **LEASE, **settings}
    from crawler import settings as project
    base = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    return get_crawler(spidercls, {**base, **values})


# --- the leased queue ------------------------------------------------------------

def make_queue(redis_url, tmp_path, lease_ms=60_000, worker="w1"):
    from crawler.distributed.queue import LeasedQueue

    crawler = shared_crawler(redis_url, tmp_path)
    spider = Demo.from_crawler(crawler)
    return LeasedQueue(redis.Redis.from_url(redis_url), spider, "t:q", worker=worker, lease_ms=lease_ms)


def test_queue_orders_by_priority_then_first_in(client, redis_url, tmp_path):
    queue = make_queue(redis_url, tmp_path)
    for url, priority in (("https://a.test/1", 0), ("https://a.test/img", -10), ("https://a.test/2", 0),
                          ("https://a.test/urgent", 5)):
        queue.push(scrapy.Request(url, priority=priority))
    got = [queue.pop().url for _ in range(4)]
    assert got == ["https://a.test/urgent", "https://a.test/1", "https://a.test/2", "https://a.test/img"]
    assert queue.pop() is None and len(queue) == 0 and queue.leased() == 4


def test_queue_pushes_a_once_request_once(client, redis_url, tmp_path):
    queue = make_queue(redis_url, tmp_path)
    assert queue.push(scrapy.Request("https://a.test/1"), once="seed-1")
    assert not queue.push(scrapy.Request("https://a.test/1"), once="seed-1")
    assert queue.push(scrapy.Request("https://a.test/1"))  # no name: always
    assert len(queue) == 2


def test_an_expired_lease_goes_back_once_and_its_late_ack_is_reported(client, redis_url, tmp_path):
    dead = make_queue(redis_url, tmp_path, lease_ms=200, worker="dead")
    alive = make_queue(redis_url, tmp_path, lease_ms=60_000, worker="alive")
    dead.push(scrapy.Request("https://a.test/1"))
    assert dead.pop().url == "https://a.test/1"
    lease = dead.last_id
    assert alive.pop() is None  # leased, not lost: nobody else gets it
    time.sleep(0.3)
    request = alive.pop()
    assert request.url == "https://a.test/1" and alive.reclaimed == 1
    assert alive.pop() is None  # done again once, not twice
    assert dead.ack([lease]) == [lease]  # the late worker learns it lost it
    assert alive.ack([alive.last_id or lease]) == [] and alive.leased() == 0


def test_extend_keeps_a_lease_and_release_puts_it_back_now(client, redis_url, tmp_path):
    worker = make_queue(redis_url, tmp_path, lease_ms=300, worker="w")
    other = make_queue(redis_url, tmp_path, worker="other")
    worker.push(scrapy.Request("https://a.test/1"))
    worker.pop()
    lease = worker.last_id
    for _ in range(4):
        time.sleep(0.15)
        assert worker.extend([lease]) == []
    assert other.pop() is None  # renewed: still this worker's
    worker.release([lease])
    assert other.pop().url == "https://a.test/1"


# --- the state store on Redis ----------------------------------------------------

def state(key, path, checked=None, site="qq", **more):
    return ArticleState(key=key, path=path, site=site, source_url=f"https://new.qq.com/rain/a/{key}",
                        last_checked=checked, title=f"t {key}", **more)


def test_redis_store_answers_as_the_sqlite_store(client, tmp_path):
    from crawler.distributed.store import RedisStore

    sqlite = StateStore(tmp_path / "s.sqlite3")
    shared = RedisStore(client, "t")
    for store in (sqlite, shared):
        store.put(state("A", "articles/qq/A.md", "2025-03-01T00:00:00Z"))
        store.put(state("B", "articles/qq/B.md"))
        store.put(state("C", "articles/web/C.md", "2025-03-02T00:00:00Z", site="web"))
        store.put(state("A2", "articles/qq/A.md", "2025-03-03T00:00:00Z"))  # a key that moved takes the file
        store.put(state("B", "articles/qq/B.md", failures=2, status="failing"))
    from datetime import datetime, timedelta, timezone

    now = datetime(2025, 3, 2, 12, tzinfo=timezone.utc)
    for args in ({}, {"site": "qq"}, {"older_than": timedelta(days=1), "now": now}, {"limit": 2},
                 {"keys": ["C", "B"]}):
        assert [s.key for s in shared.due(**args)] == [s.key for s in sqlite.due(**args)], args
    assert [s.key for s in shared.all()] == [s.key for s in sqlite.all()] == ["A2", "B", "C"]
    assert shared.get("A") is None and shared.count() == sqlite.count() == 3
    assert shared.by_path("articles/qq/A.md") == sqlite.by_path("articles/qq/A.md")
    assert shared.get("B") == sqlite.get("B") and shared.get("B").failures == 2
    assert find(shared, "https://new.qq.com/rain/a/A2") == find(sqlite, "https://new.qq.com/rain/a/A2")
    sqlite.close()


def test_redis_store_loads_from_and_saves_to_the_archive(client, tmp_path):
    from crawler.distributed.store import RedisStore

    archive = tmp_path / "archive"
    with open_store(archive) as sqlite:
        sqlite.put(state("A", "articles/qq/A.md"))
    shared = RedisStore(client, "t")
    assert shared.load(archive, "run-1") == 1 and shared.loaded_for() == "run-1"
    shared.put(state("A", "articles/qq/A.md", "2025-03-04T00:00:00Z"))
    shared.put(state("B", "articles/qq/B.md"))
    # a new run before this one was saved writes it back first
    assert shared.load(archive, "run-2") == 2
    with open_store(archive) as sqlite:
        assert sqlite.get("A").last_checked == "2025-03-04T00:00:00Z" and sqlite.get("B") is not None
    shared.put(dataclasses.replace(shared.get("B"), title="saved"))
    assert shared.save(archive) == 2
    with open_store(archive) as sqlite:
        assert sqlite.get("B").title == "saved"


# --- joining a run (the archive's lock for a shared crawl) ---------------------------

def run_settings(redis_url, run_id="", **values):
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings")
    settings.update({"REDIS_URL": redis_url, "REDIS_KEY_PREFIX": "t", "REDIS_RUN_ID": run_id, **values})
    return settings


def test_join_starts_joins_waits_and_reports_a_finished_run(client, redis_url, tmp_path):
    settings = run_settings(redis_url, ARCHIVE_LOCK_TIMEOUT=0.3)
    first, started = join(client, settings, "qq")
    assert started and "-qq-" in first
    assert join(client, settings, "qq") == (first, False)  # same spider: the same run
    with pytest.raises(ArchiveLocked, match=f"shared run {first} \\(qq"):
        join(client, settings, "refresh")  # another command waits, then 75
    client.delete(Keys("t").current)
    client.set(Keys("t").done("daily"), json.dumps({"run": "daily", "status": 1, "text": "crawl summary"}))
    named = run_settings(redis_url, run_id="daily")
    with pytest.raises(RunFinished) as finished:
        join(client, named, "qq")
    assert finished.value.record["status"] == 1


# --- locks, outcomes, the add-on -------------------------------------------------

def test_article_lock_is_exclusive_across_workers_and_reentrant_within_one(client, redis_url, tmp_path):
    from crawler.distributed.locks import ArticleLocks

    one = ArticleLocks(SharedRun.of(shared_crawler(redis_url, tmp_path, REDIS_LEASE_TIMEOUT=1)))
    two = ArticleLocks(SharedRun.of(shared_crawler(redis_url, tmp_path, REDIS_LEASE_TIMEOUT=1)))
    with one.held("K"):
        with one.held("K"):  # the state extension inside the pipeline's hold
            pass
        assert not two._try("K")  # still held after the inner release
    assert two._try("K")
    two.release("K")
    # a holder that died: its lock expires with its lease
    assert one._try("D")
    started = time.monotonic()
    with two.held("D"):
        waited = time.monotonic() - started
    assert 0.5 < waited < 3


def test_first_success_stands_and_a_failure_never_replaces_it(client, redis_url, tmp_path):
    from crawler.distributed.summary import SharedSummary, run_record

    crawler = shared_crawler(redis_url, tmp_path)
    one, two = SharedSummary(crawler), SharedSummary(crawler)
    urls = ["https://a.test/1", "https://a.test/2", "https://a.test/3"]
    client.set(Keys("t", "r1").run("seed_urls"), json.dumps([[u, "note"] for u in urls]))
    one.item_scraped({"source_url": urls[0], "outcome": "archived", "path": "articles/a/1.md"}, None, None)
    two.item_scraped({"source_url": urls[0], "outcome": "unchanged", "path": "articles/a/1.md"}, None, None)
    two.url_failed(urls[0], "HTTP 500", None, kind="HTTP 500")
    one.url_failed(urls[1], "HTTP 500", None, kind="HTTP 500")
    two.item_scraped({"source_url": urls[1], "outcome": "archived", "path": "articles/a/2.md"}, None, None)
    client.hset(Keys("t", "r1").run("stats"), "downloader/response_count", 7)
    record = run_record(client, Keys("t", "r1"), "qq", propagate=False)
    assert record["outcomes"]["archived"] == 2 and record["failed"] == 1 and record["status"] == 1
    text = record["text"]
    assert "seed URLs:  3" in text and "fetched:    7 responses" in text and "archived:   2 new" in text
    assert f"{urls[2]}: no result (crawl ended: finished)" in text


def test_addon_switches_only_a_shared_crawl(redis_url, tmp_path):
    from crawler import settings as project
    base = {k: getattr(project, k) for k in dir(project) if k.isupper()}
    alone = get_crawler(Demo, base)
    alone._apply_settings()
    assert "scrapy_redis" not in alone.settings["SCHEDULER"] and "distributed" not in alone.settings["SCHEDULER"]
    assert alone.settings["EXTENSIONS"]["crawler.extensions.summary.CrawlSummary"] == 500
    shared = shared_crawler(redis_url, tmp_path)
    shared._apply_settings()
    assert shared.settings["SCHEDULER"] == "crawler.distributed.scheduler.SharedScheduler"
    assert shared.settings["SCHEDULER_QUEUE_CLASS"] == "crawler.distributed.queue.LeasedQueue"
    assert shared.settings["EXTENSIONS"]["crawler.extensions.summary.CrawlSummary"] is None
    assert shared.settings["EXTENSIONS"]["crawler.extensions.warcindex.CdxjIndex"] is None
    assert shared.settings["EXTENSIONS"]["crawler.distributed.extension.SharedCrawl"] == 505
    pipelines = shared.settings["ITEM_PIPELINES"]
    assert pipelines["crawler.distributed.locks.ArticleLockPipeline"] == 100
    # the same repair as a single-machine run, reading the archive's evidence
    assert pipelines["crawler.pipelines.recordrepair.UnrecordedOutcomes"] == 350
    assert not any("distributed.repair" in name for name in pipelines)


def test_a_request_is_acknowledged_only_when_the_engine_is_done_with_it(client, redis_url, tmp_path):
    from types import SimpleNamespace

    from crawler.distributed.scheduler import SharedScheduler

    crawler = shared_crawler(redis_url, tmp_path)
    slot = SimpleNamespace(inprogress=set())
    crawler.engine = SimpleNamespace(_slot=slot, spider=None)
    scheduler = SharedScheduler.from_crawler(crawler)
    scheduler.open(Demo.from_crawler(crawler))
    assert scheduler.enqueue_request(scrapy.Request("https://a.test/1", meta={"shared_once": "s1"}))
    assert not scheduler.enqueue_request(scrapy.Request("https://a.test/1", meta={"shared_once": "s1"}))
    assert scheduler.enqueue_request(scrapy.Request("https://a.test/2"))
    first = scheduler.next_request()
    assert "shared_once" not in first.meta  # a redirect of it is not the start request again
    slot.inprogress.add(first)  # the engine downloads it, runs its callback, its items...
    second = scheduler.next_request()
    slot.inprogress.add(second)
    assert scheduler.queue.leased() == 2
    slot.inprogress.discard(first)  # ...and is done with it
    scheduler.settle()
    assert scheduler.queue.leased() == 1 and list(scheduler.leased.values()) == [second]
    scheduler.close("shutdown")  # stopped early: the unfinished one goes back now
    assert scheduler.queue.leased() == 0 and len(scheduler.queue) == 1


def test_another_machines_open_warc_is_left_while_that_machine_has_a_live_worker(client, redis_url, tmp_path):
    from crawler.distributed.extension import SharedCrawl

    ext = SharedCrawl(shared_crawler(redis_url, tmp_path))
    mine = f"crawler-20250101000000000-00001-{ext.host()}.warc.gz.open"
    theirs = "crawler-20250101000000000-00001-otherhost.warc.gz.open"
    assert not ext.warc_in_use(mine)  # this machine's: flock decides
    assert not ext.warc_in_use(theirs)  # no live worker there
    client.set("t:writers:otherhost", "w", px=2000)
    assert ext.warc_in_use(theirs) and not ext.warc_in_use(mine)
    assert not ext.warc_in_use("crawler-20250101000000000-00001-otherhost2.warc.gz.open")


# --- real workers ------------------------------------------------------------------

WORKER_SETTINGS = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20, "EXTRACTION_WORKERS": 1,
                   "BROWSER_RENDER": "never", "ARCHIVE_LOCK_TIMEOUT": 5, **LEASE}


def worker_env(proxy_url: str | None) -> dict:
    """A worker outside the project folder: the project on PYTHONPATH and its
    settings module named, as on a machine that only mounts the code."""
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    if proxy_url:
        env.update(http_proxy=proxy_url, https_proxy=proxy_url)
    env.update(SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    return env


def start_worker(base: Path, name: str, args: list[str], archive: Path, redis_url: str, prefix: str,
                 proxy_url: str | None, **settings) -> subprocess.Popen:
    folder = base / name
    folder.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "scrapy", *args, "-L", "INFO", "-s", f"ARCHIVE_DIR={archive}", "-s", f"REDIS_URL={redis_url}",
           "-s", f"REDIS_KEY_PREFIX={prefix}"]
    for key, value in {**WORKER_SETTINGS, **settings}.items():
        cmd += ["-s", f"{key}={value}"]
    log = open(folder / "worker.log", "wb")
    proc = subprocess.Popen(cmd, cwd=folder, env=worker_env(proxy_url), stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = folder / "worker.log"
    log.close()
    return proc


def finish(procs, timeout=240) -> list[tuple[int, str]]:
    deadline = time.monotonic() + timeout
    results = []
    for proc in procs:
        try:
            code = proc.wait(max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            raise AssertionError(f"worker still running:\n{proc.log_path.read_text()[-4000:]}")
        results.append((code, proc.log_path.read_text(errors="replace")))
    return results


def summary_command(archive, redis_url, prefix, *args):
    return subprocess.run([sys.executable, "-m", "scrapy", "summary", *args, "-s", f"REDIS_URL={redis_url}",
                           "-s", f"REDIS_KEY_PREFIX={prefix}", "-s", f"ARCHIVE_DIR={archive}"],
                          cwd=ROOT, env=worker_env(None), capture_output=True, text=True, timeout=60)


def markdown_records(archive: Path) -> Counter:
    """urn:markdown resource records per page URL, over every WARC."""
    counts = Counter()
    for path in sorted((archive / "warc").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for record in ArchiveIterator(handle):
                uri = record.rec_headers.get_header("WARC-Target-URI") or ""
                if record.rec_type == "resource" and uri.startswith("urn:markdown:"):
                    counts[uri[len("urn:markdown:"):]] += 1
    return counts


def article_files(archive: Path) -> dict[str, Path]:
    """Source URL -> article file."""
    import frontmatter

    found = {}
    for path in (archive / "articles").rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        source = text.strip().splitlines()[-1].split("(", 1)[1].rstrip(")")
        assert frontmatter.loads(text).metadata["warc_record_id"], path
        assert source not in found, f"{source} archived twice: {found[source]} and {path}"
        found[source] = path
    return found


def check_warcs_and_index(archive: Path) -> None:
    from crawler.warc.index import file_lines

    warc_dir = archive / "warc"
    assert not list(warc_dir.glob("*.open")), "a WARC left open"
    files = sorted(warc_dir.glob("*.warc.gz"))
    assert files
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    expected = sorted({line for path in files for line in file_lines(path, warc_dir)})
    index = (archive / "index.cdxj").read_text(encoding="utf-8").splitlines(keepends=True)
    assert index == expected, "the index is not every record of every WARC"
    assert {json.loads(line.split(" ", 2)[2])["filename"] for line in index} == {p.name for p in files}


#: Seconds each generated page takes to answer: long enough that the first
#: two workers cannot finish the run before the third has started (they did
#: once the workers started faster), short enough to keep the module quick.
PAGE_DELAY = 0.8


@pytest.fixture(scope="module")
def web():
    proxy = FixtureProxy(generated_pages(PAGES, delay=PAGE_DELAY)).start()
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def three_workers(web, redis_url, tmp_path_factory):
    """Three workers, started one after another, crawl PAGES pages + 3 qq articles."""
    base = tmp_path_factory.mktemp("shared")
    seeds = base / "seeds"
    urls = write_seeds(seeds, PAGES)
    archive = base / "archive"
    before = len(web.requests)
    procs = []
    for i in range(3):
        procs.append(start_worker(base, f"worker{i}", ["crawl", "qq", "-a", f"seeds={seeds}"], archive,
                                  redis_url, "crawl3", web.url))
        time.sleep(0.5)
    results = finish(procs)
    asked = [url for url, _ in web.requests[before:]]
    return {"archive": archive, "urls": urls, "results": results, "asked": asked, "base": base, "seeds": seeds}


def test_three_workers_archive_every_seed_url_once(three_workers):
    for code, log in three_workers["results"]:
        assert code == 0, log[-5000:]
    archive, urls = three_workers["archive"], three_workers["urls"]
    files = article_files(archive)
    assert set(files) == set(urls)
    records = markdown_records(archive)
    assert sorted(records.values()) == [1] * len(urls), [u for u, n in records.items() if n != 1]
    assert not (archive / "versions").exists() and not (archive / "rejected").exists()
    # every worker took part; the shared cover image was fetched once for all
    logs = [log for _, log in three_workers["results"]]
    assert all("'scheduler/dequeued/redis'" in log for log in logs)
    assert three_workers["asked"].count("https://img.example/covers/shared.png") == 1
    assert Counter(three_workers["asked"])[article_url(7)] == 1


def test_three_workers_write_valid_warcs_and_one_index_of_every_record(three_workers):
    archive = three_workers["archive"]
    check_warcs_and_index(archive)
    hosts = {p.name for p in (archive / "warc").glob("*.warc.gz")}
    assert len(hosts) >= 3  # each worker wrote its own files


def test_three_workers_change_log_and_state(three_workers):
    archive, urls = three_workers["archive"], three_workers["urls"]
    lines = (archive / "changes.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    assert sorted(e["url"] for e in events if e["event"] == "archived") == sorted(urls)
    with open_store(archive) as store:  # written back to the archive's SQLite state
        assert store.count() == len(urls)


def test_the_summary_command_prints_the_run_and_exits_0(three_workers, redis_url):
    result = summary_command(three_workers["archive"], redis_url, "crawl3")
    assert result.returncode == 0, result.stdout + result.stderr
    n = len(three_workers["urls"])
    assert f"seed URLs:  {n}" in result.stdout and f"archived:   {n} new, 0 changed" in result.stdout
    assert "failed:     0" in result.stdout
    last = [log for _, log in three_workers["results"] if "crawl summary" in log]
    assert len(last) == 1  # the last worker out logs it, once


def test_a_shared_refresh_checks_each_article_once(three_workers, web, redis_url):
    archive, base = three_workers["archive"], three_workers["base"]
    with open_store(archive) as store:
        checked_before = {s.key: s.last_checked for s in store.all()}
    time.sleep(1.1)  # last_checked has whole seconds
    before = len(web.requests)
    procs = [start_worker(base, f"refresh{i}", ["refresh"], archive, redis_url, "crawl3", web.url)
             for i in range(3)]
    results = finish(procs)
    for code, log in results:
        assert code == 0, log[-5000:]
    asked = Counter(url for url, _ in web.requests[before:])
    for url in three_workers["urls"]:
        assert asked[url] == 1, (url, asked[url])
    summary = summary_command(archive, redis_url, "crawl3", "refresh")
    assert summary.returncode == 0, summary.stdout
    n = len(three_workers["urls"])
    assert f"checked:    {n} of {n} due" in summary.stdout and f"unchanged:  {n}" in summary.stdout
    with open_store(archive) as store:  # the run's state written back
        after = {s.key: s.last_checked for s in store.all()}
    assert set(after) == set(checked_before) and all(after[k] > checked_before[k] for k in after)


def test_another_command_waits_for_the_shared_run_then_exits_75(three_workers, web, redis_url, tmp_path):
    client = redis.Redis.from_url(redis_url)
    client.set("crawl3:run", json.dumps({"id": "busy", "spider": "qq", "started": "now", "by": "test"}))
    try:
        proc = start_worker(tmp_path, "late", ["refresh"], three_workers["archive"], redis_url, "crawl3", web.url,
                            ARCHIVE_LOCK_TIMEOUT=1)
        [(code, log)] = finish([proc], timeout=60)
    finally:
        client.delete("crawl3:run")
    assert code == 75, log[-3000:]
    assert "not started: the archive is in use by the shared run busy (qq" in log


def test_redis_unreachable_at_start_is_a_clear_error(tmp_path):
    proc = start_worker(tmp_path, "nowhere", ["crawl", "qq", "-a", f"seeds={tmp_path}"], tmp_path / "archive",
                        f"redis://127.0.0.1:{free_port()}/0", "none", None)
    [(code, log)] = finish([proc], timeout=60)
    assert code == 1
    assert "not started: Redis at redis://127.0.0.1:" in log and "is unreachable" in log
    assert not (tmp_path / "archive").exists()


@pytest.fixture(scope="module")
def killed_run(redis_url, tmp_path_factory):
    """Three workers on a slow web; the first is killed with SIGKILL while it holds requests."""
    proxy = FixtureProxy(generated_pages(PAGES, delay=0.4)).start()
    try:
        base = tmp_path_factory.mktemp("killed")
        urls = write_seeds(base / "seeds", PAGES)
        archive = base / "archive"
        procs = []
        for i in range(3):
            procs.append(start_worker(base, f"worker{i}", ["crawl", "qq", "-a", f"seeds={base / 'seeds'}"],
                                      archive, redis_url, "killed", proxy.url))
            time.sleep(0.3)
        victim = procs[0]
        client = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 90
        held = 0
        while time.monotonic() < deadline:
            assert victim.poll() is None, victim.log_path.read_text()[-3000:]
            run = json.loads(client.get("killed:run") or "{}").get("id")
            owners = [o.decode() for o in client.hvals(f"killed:run:{run}:queue:owners")] if run else []
            held = sum(f":{victim.pid}:" in o for o in owners)
            written = len(list((archive / "articles").rglob("*.md"))) if (archive / "articles").exists() else 0
            if held and written >= 30 and client.exists(f"killed:run:{run}:seeded"):
                break
            time.sleep(0.1)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
        open_after_kill = [p.name for p in (archive / "warc").glob("*.open")]
        written_at_kill = len(list((archive / "articles").rglob("*.md")))
        results = finish(procs[1:])
        summary = summary_command(archive, redis_url, "killed")
    finally:
        proxy.stop()
    return {"archive": archive, "urls": urls, "results": results, "held": held, "open": open_after_kill,
            "written_at_kill": written_at_kill, "summary": summary}


def test_a_killed_workers_requests_are_finished_by_the_others(killed_run):
    assert killed_run["held"] > 0 and killed_run["written_at_kill"] < len(killed_run["urls"])
    for code, log in killed_run["results"]:
        assert code == 0, log[-5000:]
    logs = "".join(log for _, log in killed_run["results"])
    assert "requests whose lease ran out (a worker stopped or died) are back in the shared queue" in logs
    archive, urls = killed_run["archive"], killed_run["urls"]
    assert set(article_files(archive)) == set(urls)  # nothing missing, nothing twice
    records = markdown_records(archive)
    assert sorted(records.values()) == [1] * len(urls), [u for u, n in records.items() if n != 1]
    assert not (archive / "versions").exists()
    events = [json.loads(line) for line in (archive / "changes.jsonl").read_text().splitlines()]
    assert sorted(e["url"] for e in events) == sorted(urls)  # one "archived" line each


def test_a_killed_workers_warc_is_closed_and_indexed(killed_run):
    archive = killed_run["archive"]
    assert len(killed_run["open"]) >= 1
    victim_files = [name[: -len(".open")] for name in killed_run["open"]]
    check_warcs_and_index(archive)  # no .open left, all valid, every record indexed
    index = (archive / "index.cdxj").read_text()
    assert any(name in index for name in victim_files)


def test_a_killed_run_summary_counts_every_seed_url_once(killed_run):
    summary, n = killed_run["summary"], len(killed_run["urls"])
    assert summary.returncode == 0, summary.stdout + summary.stderr
    assert f"seed URLs:  {n}" in summary.stdout and f"archived:   {n} new, 0 changed" in summary.stdout
    assert "unchanged:  0" in summary.stdout and "failed:     0" in summary.stdout


def test_redis_lost_mid_crawl_stops_the_worker_with_nothing_half_written(tmp_path):
    """Its own redis-server, stopped while the worker crawls a slow web."""
    import frontmatter

    server, port = start_redis(tmp_path)
    proxy = FixtureProxy(generated_pages(60, delay=0.3)).start()
    try:
        write_seeds(tmp_path / "seeds", 60)
        archive = tmp_path / "archive"
        worker = start_worker(tmp_path, "worker", ["crawl", "qq", "-a", f"seeds={tmp_path / 'seeds'}"], archive,
                              f"redis://127.0.0.1:{port}/0", "lost", proxy.url, CONCURRENT_REQUESTS=4)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(archive.rglob("articles/*/*.md"))) < 5:
            assert worker.poll() is None, worker.log_path.read_text()[-3000:]
            time.sleep(0.1)
        server.terminate()
        server.wait(10)
        [(code, log)] = finish([worker], timeout=90)
    finally:
        proxy.stop()
        if server.poll() is None:
            server.kill()
    assert code == 1, log[-3000:]
    assert "lost the connection to Redis at redis://127.0.0.1:" in log
    assert "'finish_reason': 'redis_lost'" in log
    articles = list(archive.rglob("articles/*/*.md"))
    assert 5 <= len(articles) < 63
    for path in articles:  # whole files only
        assert frontmatter.loads(path.read_text(encoding="utf-8")).metadata["warc_record_id"]
    assert not list(archive.rglob("*.tmp"))
    files = sorted((archive / "warc").glob("*.warc.gz"))
    assert files and not list((archive / "warc").glob("*.open"))  # closed cleanly
    check = subprocess.run([str(Path(sys.executable).parent / "warcio"), "check", *map(str, files)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout[-2000:]
