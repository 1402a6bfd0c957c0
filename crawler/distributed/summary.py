"""The outcomes of a shared run, counted in Redis, and its one summary.

:class:`SharedSummary` replaces the per-process summary extension in a
shared crawl: every worker writes each seed URL's outcome to the run's
hashes (``outcomes``, ``failures``, ``kinds``, ``paths``, ``gone``, and the
set ``back``). The first success of a URL stands (a request done again after
its worker died finds the article already archived: it stays "archived", not
"unchanged"); a failure never replaces a success.

When the run is over, :func:`run_record` renders the summary with the
single-machine extension's own code (same text, same exit rule) from those
hashes and the counters all workers added (``stats``). The last worker out
logs it and keeps it under ``<prefix>:done:<run>``, where ``scrapy summary``
reads it.
"""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

from redis.exceptions import RedisError

from crawler.core.failures import RUN_FAILURE_STATS
from crawler.core.timefmt import utcnow
from crawler.distributed.run import Keys, SharedRun
from crawler.extensions.summary import CrawlSummary

logger = logging.getLogger(__name__)

#: Outcomes that answer for a URL (the run did what it was asked).
SUCCESS = ("archived", "updated", "unchanged", "gone")
#: Failure stats the last worker out sets for the whole run: the damaged WARC
#: files its index build saw (the last build sees every file), the WACZ it
#: packs, the state it writes back.
FINAL_STATS = ("warc/damaged_files", "wacz/failed", "archive/state_save_failed")
#: Per-worker stats added up run-wide for the summary and the exit status:
#: every failure stat of the one list (crawler.core.failures.RUN_FAILURE_STATS)
#: that any worker may meet.
SUMMED_STATS = ("downloader/response_count", "browser/responses", "archive/images/fetched",
                *(key for key in RUN_FAILURE_STATS if key not in FINAL_STATS))

# KEYS: outcomes failures kinds paths gone; ARGV: url outcome path gone-reason
_SUCCEED = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= 'failed' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[4], ARGV[1], ARGV[3]) end
if ARGV[2] == 'gone' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[4]) end
return 1
"""
# KEYS: outcomes failures kinds; ARGV: url reason kind
_FAIL = """
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur and cur ~= 'failed' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], 'failed')
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
return 1
"""


def _text(value):
    return value.decode("utf-8") if isinstance(value, bytes) else value


class SharedSummary(CrawlSummary):
    """Outcomes into the run's hashes (the crawl-wide summary is made by
    crawler.distributed.extension when the run is over)."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self._run = None

    @property
    def run(self) -> SharedRun:
        """The worker's run (RunHandle's), at first use: extensions are not
        looked up while they are being made."""
        if self._run is None:
            self._run = SharedRun.of(self.crawler)
            self._succeed = self._run.client.register_script(_SUCCEED)
            self._fail = self._run.client.register_script(_FAIL)
        return self._run

    def _call(self, function, *args, **kwargs):
        """A Redis write that may find Redis gone (the scheduler says so and stops the worker)."""
        try:
            function(*args, **kwargs)
        except RedisError as exc:
            logger.warning("outcome not counted: Redis lost (%s)", exc)

    def _keys(self, *names):
        return [self.run.keys.run(name) for name in names]

    def _success(self, url, outcome, path="", reason=""):
        if url:
            keys = self._keys("outcomes", "failures", "kinds", "paths", "gone")  # the run first: its scripts
            self._call(self._succeed, keys=keys,
                       args=[url, outcome, path or "", reason or ""])

    def item_scraped(self, item, response, spider):
        from itemadapter import ItemAdapter

        article = ItemAdapter(item)
        self._success(article.get("source_url"), article.get("outcome") or "archived", article.get("path"))

    def article_unchanged(self, url, key=None, spider=None, **kwargs):
        self._success(url, "unchanged")

    def article_gone(self, url, reason, key=None, spider=None):
        self._success(url, "gone", reason=reason)

    def article_back(self, url, key=None, spider=None):
        self._call(self.run.client.sadd, self.run.keys.run("back"), url)

    def url_failed(self, url, reason, spider, kind=None):
        if url:
            from crawler.extensions.summary import _reason_kind

            keys = self._keys("outcomes", "failures", "kinds")  # the run first: its scripts
            self._call(self._fail, keys=keys,
                       args=[url, reason, kind or _reason_kind(reason)])

    def spider_closed(self, spider, reason):
        """Nothing per worker: the summary is the run's."""


class _Stats(dict):
    def get_value(self, key, default=None):
        return self.get(key, default)

    def set_value(self, key, value):
        self[key] = value

    def inc_value(self, key, count=1, start=0):
        self[key] = self.get(key, start) + count


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def run_record(client, keys: Keys, spider: str, propagate: bool = True) -> dict:
    """The finished run's summary: text (as the single-machine crawl writes
    it), counts and exit status (0, or 1 for any failed seed URL or damaged
    WARC), from the run's hashes."""
    def hash_of(name):
        return {_text(k): _text(v) for k, v in client.hgetall(keys.run(name)).items()}

    stats = _Stats({k: int(v) for k, v in hash_of("stats").items()})
    summary = CrawlSummary(SimpleNamespace(stats=stats))
    summary.outcomes, summary.failures = hash_of("outcomes"), hash_of("failures")
    summary.kinds, summary.paths, summary.gone = hash_of("kinds"), hash_of("paths"), hash_of("gone")
    summary.back = {_text(url) for url in client.smembers(keys.run("back"))}
    seeds = json.loads(client.get(keys.run("seed_urls")) or "[]")
    source = logging.getLogger("crawler.extensions.summary")
    capture = _Capture()
    source.addHandler(capture)
    was, source.propagate = source.propagate, propagate
    # the summary is logged at INFO: captured whatever level the process logs at
    level = source.level
    source.setLevel(logging.DEBUG)
    try:
        summary.spider_closed(SimpleNamespace(name=spider, seed_urls=dict(seeds)), "finished")
    finally:
        source.removeHandler(capture)
        source.propagate = was
        source.setLevel(level)
    failed = stats.get("archive/seed_urls_failed", 0)
    failures = {key: stats[key] for key in RUN_FAILURE_STATS if stats.get(key)}
    if failures:  # what fails the run beside its seed URLs, said as the exit status counts it
        line = "run failures (exit status 1): " + ", ".join(f"{key} {value}" for key, value in failures.items())
        capture.lines.append(line)
        if propagate:
            logger.error(line)
    status = 1 if failed or failures else 0
    return {"run": keys.run_id, "spider": spider, "finished": utcnow(), "status": status,
            "seed_urls": stats.get("archive/seed_urls", 0), "failed": failed,
            "outcomes": {o: list(summary.outcomes.values()).count(o) for o in (*SUCCESS, "failed")},
            "text": "\n".join(capture.lines), "stats": dict(stats)}


def print_record(record: dict) -> int:
    """Print a finished run's summary; its exit status."""
    print(record.get("text") or "(no summary)", flush=True)
    print(f"shared run {record.get('run')} ({record.get('spider')}), finished {record.get('finished')}: "
          f"exit status {record.get('status')}", flush=True)
    return int(record.get("status", 1))
