"""A worker's part in a shared run: heartbeat, when to leave, the last one out.

* Heartbeat (every ``REDIS_HEARTBEAT_INTERVAL`` seconds, the first before
  any WARC file is opened): the worker's key, its machine's WARC writer key
  ``<prefix>:writers:<host>`` and the run's slot on the archive are kept
  alive, the leases on its requests renewed, finished requests acknowledged.
* Idle: the worker stays while the run has work anywhere (not yet seeded,
  requests waiting, or leased to a worker that may still yield more, or die
  and have them put back); it leaves once the queue is empty and nothing is
  leased out, so a cron run ends by itself.
* Engine stopped: the CDXJ index is brought up to date under the run-wide
  index lock, after closing the ``.open`` WARCs of dead writers; the
  worker's counters, its failures among them, are added to the run's; the
  worker leaves the run (its heartbeat kept from a thread until then). The
  last one out of a finished run writes the capture state back to SQLite,
  packs the WACZ (``WACZ_ON_CLOSE``), sends the run's change notification
  (``NOTIFY_URLS``, crawler.extensions.notify), records and logs the run's summary
  and frees the archive. The others wait for that record: every worker of a
  finished run exits 0 or 1 by the whole run's outcome, counted by the one
  list of failure stats (crawler.core.failures.RUN_FAILURE_STATS) that a
  single-machine run's exit status and ``scrapy summary`` go by too.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time

from redis.exceptions import RedisError
from scrapy.exceptions import DontCloseSpider

from crawler.core.failures import RUN_FAILURE_STATS
from crawler.distributed import enabled
from crawler.distributed.run import SharedRun
from crawler.distributed.summary import FINAL_STATS, SUCCESS, SUMMED_STATS, run_record
from crawler.extensions.warcwriter import WarcWriterExtension
from crawler.featureoff import feature_off
from crawler.signals import connect_handlers, shared_run_closing

logger = logging.getLogger(__name__)

#: Seconds the CDXJ index lock may be held (a full rebuild of a large archive).
INDEX_LOCK_SECONDS = 1800
#: Stats keys of the local index build that the run's record keeps (the last build sees every file).
INDEX_STATS = ("warc/damaged_files",)
#: Seconds between two looks at the run while waiting for its record.
RECORD_POLL = 0.2
#: Longest wait for the last worker out to record the run (it packs the WACZ, writes the state back).
RECORD_WAIT = INDEX_LOCK_SECONDS


class KeepAlive:
    """Calls ``beat`` every ``interval`` seconds from a thread while held:
    a worker's keys stay alive while the reactor is busy in a signal
    handler (the engine has stopped, the heartbeat loop with it)."""

    def __init__(self, beat, interval: float):
        self.beat, self.interval = beat, max(interval, 0.05)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="shared-keepalive", daemon=True)

    def _run(self):
        while not self.stop.wait(self.interval):
            try:
                self.beat()
            except RedisError:
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)


class SharedCrawl:
    def __init__(self, crawler):
        self.crawler = crawler
        self.loop = None
        self.failed = False  # Redis was lost

    @property
    def run(self) -> SharedRun:
        """The worker's run (RunHandle's: looked up once the extensions are made)."""
        return SharedRun.of(self.crawler)

    @classmethod
    def from_crawler(cls, crawler):
        if not enabled(crawler.settings):
            raise feature_off(__name__, "not a shared crawl")
        ext = cls(crawler)
        connect_handlers(crawler, ext, "spider_opened", "spider_idle", "spider_closed", "engine_stopped")
        return ext

    # --- heartbeat ------------------------------------------------------------

    def _scheduler(self):
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        return scheduler if hasattr(scheduler, "extend_leases") else None

    def spider_opened(self, spider):
        from twisted.internet import task

        self.tick()
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.run.heartbeat_interval, now=False)

    def tick(self):
        if self.failed:
            return
        run = self.run
        try:
            run.beat()
            if run.seeding:
                run.client.pexpire(run.keys.run("seeder"), run.lease_ms)
            run.client.set(run.keys.archive(f"writers:{self.host()}"), run.worker, px=run.lease_ms)
            scheduler = self._scheduler()
            if scheduler is not None and not scheduler.redis_lost:
                scheduler.settle()
                scheduler.extend_leases()
        except RedisError as exc:
            self._lost(exc)

    def _lost(self, exc):
        self.failed = True
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.lost(exc)
        else:
            logger.error("lost the connection to Redis: %s", exc)
            self.crawler.stats.set_value("shared/redis_lost", 1)

    def host(self) -> str:
        """This machine as the WARC writer puts it in its file names."""
        writer = self.crawler.get_extension(WarcWriterExtension)
        return writer.writer.host if writer is not None else socket.gethostname().replace("-", "_").replace("/", "_")

    def warc_in_use(self, name: str, stat=None) -> bool:
        """Whether an ``.open`` WARC of another machine may have a live writer:
        one whose machine (named in the file name) still has a live worker.
        This machine's files are left to the writer's own rule (flock, which
        holds between processes of one machine). Unsure (Redis unreachable)
        counts as in use."""
        def named(host):
            return f"-{host}." in name or f"-{host}-" in name
        if named(self.host()):
            return False
        base = self.run.keys.archive("writers:")
        try:
            live = [key.decode()[len(base):] for key in self.run.client.scan_iter(match=base + "*", count=1000)]
        except RedisError:
            return True
        return any(named(host) for host in live)

    # --- leaving --------------------------------------------------------------

    def spider_idle(self, spider):
        if self.failed or (self._scheduler() is not None and self._scheduler().redis_lost):
            return  # close: Redis is gone
        try:
            complete = self.run.complete()
        except RedisError as exc:
            self._lost(exc)
            return
        if not complete:
            raise DontCloseSpider

    def spider_closed(self, spider, reason):
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def _beat_worker(self):
        """This worker's heartbeat key alone (the run's slot is the live loop's to keep)."""
        self.run.client.set(self.run.keys.run(f"worker:{self.run.worker}"), "leaving", px=self.run.lease_ms)

    def engine_stopped(self):
        if self.failed or self.crawler.stats.get_value("shared/redis_lost"):
            logger.error("shared run %s: this worker stopped without Redis; the run goes on without it",
                         self.run.run_id)
            return
        try:
            if self.run.finished():  # the last worker out has closed the run already
                self._build_index()
                self._exit_stats()
                return
            # alive until it has left: its failures (the index build's
            # included) are in the run's counts before the last one records it
            with KeepAlive(self._beat_worker, self.run.heartbeat_interval):
                self._build_index()
                self._flush_stats()
                complete = self.run.complete()
            self.run.leave()
            if not complete:
                logger.warning("shared run %s is not finished: this worker left it early", self.run.run_id)
                return
            if not self.run.live_workers() and self.run.claim_finalizer():
                self._finalize()
            else:
                self._await_record()
            self._exit_stats()
        except RedisError as exc:
            logger.error("lost the connection to Redis while leaving shared run %s: %s", self.run.run_id, exc)
            self.crawler.stats.set_value("shared/redis_lost", 1)

    def _await_record(self):
        """Wait for the last worker out to record the run, so that this
        worker exits by the whole run's outcome, failures found after it
        left included (an index or WACZ failure, a state not written back).
        No worker alive and nobody finalizing: this one closes the run."""
        run = self.run
        deadline = time.monotonic() + RECORD_WAIT
        while not run.finished() and time.monotonic() < deadline:
            if not run.client.exists(run.keys.run("finalizer")) and not run.live_workers():
                if run.claim_finalizer():
                    self._build_index()  # the files the others wrote after this one's build
                    self._finalize()
                    return
                continue
            time.sleep(RECORD_POLL)
        if not run.finished():
            logger.warning("shared run %s: no record of the run after %d s; exit status by what is known",
                           run.run_id, RECORD_WAIT)

    def _flush_stats(self):
        stats = self.crawler.stats
        pipe = self.run.client.pipeline()
        for key in SUMMED_STATS:
            if stats.get_value(key):
                pipe.hincrby(self.run.keys.run("stats"), key, int(stats.get_value(key)))
        pipe.execute()

    def _build_index(self):
        settings = self.crawler.settings
        if not (settings.getbool("WARC_ENABLED") and settings.getbool("WARC_CDXJ_INDEX")):
            return
        from crawler.archive.storage import ArchiveStore
        from crawler.distributed.locks import LockTimeout, named_lock
        from crawler.warc.index import update_index
        from crawler.warc.recovery import recover_open_files

        archive = settings.get("ARCHIVE_DIR")
        try:
            with named_lock(self.crawler, "index", timeout=INDEX_LOCK_SECONDS):
                warc_dir = ArchiveStore(archive).path("warc")
                if warc_dir.is_dir():
                    recovered = recover_open_files(warc_dir, in_use=self.warc_in_use)
                    if recovered:
                        logger.warning("WARC files of dead workers closed: %s", ", ".join(recovered))
                        self.crawler.stats.inc_value("warc/recovered_files", len(recovered))
                update_index(archive, self.crawler.stats)
        except (LockTimeout, OSError) as exc:
            # counted (exit 1, the run's too), and the worker still leaves the run
            logger.error("CDXJ index not brought up to date: %s: %s", type(exc).__name__, exc)
            self.crawler.stats.set_value("warc/index_failed", 1)

    def _finalize(self):
        """The last worker out of a finished run (its claim kept alive meanwhile)."""
        run = self.run
        with KeepAlive(lambda: run.client.pexpire(run.keys.run("finalizer"), run.lease_ms),
                       run.heartbeat_interval):
            self._close_run()

    def _close_run(self):
        run, client, stats = self.run, self.run.client, self.crawler.stats
        for key in INDEX_STATS:
            stats.set_value(key, int(stats.get_value(key) or 0))
        from crawler.extensions.statestore import state_store

        try:
            saved = state_store(self.crawler).save(self.crawler.settings.get("ARCHIVE_DIR"))
            logger.info("capture state written back to the archive: %d articles", saved)
        except Exception:  # noqa: BLE001 - the run's record says so
            logger.exception("the capture state could not be written back to the archive")
            stats.set_value("archive/state_save_failed", 1)
        self._pack_wacz()
        # the run's own last words (change notifications), while its keys are there
        self.crawler.signals.send_catch_log(shared_run_closing)
        pipe = client.pipeline()
        for key in FINAL_STATS:
            if stats.get_value(key) is not None:
                pipe.hset(run.keys.run("stats"), key, int(stats.get_value(key) or 0))
        pipe.execute()
        record = run_record(client, run.keys, run.spider_name)
        self.crawler.run_summary = record["text"]  # printed last by the command
        ttl = int(self.crawler.settings.getfloat("REDIS_SUMMARY_TTL")) or None
        pipe = client.pipeline()
        pipe.set(run.keys.done(), json.dumps(record, ensure_ascii=False), ex=ttl)
        pipe.set(run.keys.last(run.spider_name), run.run_id, ex=ttl)
        pipe.set(run.keys.last(), run.run_id, ex=ttl)
        pipe.execute()
        doomed = list(client.scan_iter(match=run.keys.run("*"), count=1000))
        for start in range(0, len(doomed), 500):
            client.delete(*doomed[start:start + 500])
        run.end()
        logger.info("shared run %s finished: exit status %d", run.run_id, record["status"])

    def _pack_wacz(self):
        """WACZ_ON_CLOSE in a shared run: the last worker out packs the
        archive, once every worker's files are closed and indexed and the
        state is written back (crawler.distributed.addon takes the
        per-worker export out)."""
        settings = self.crawler.settings
        if not (settings.getbool("WACZ_ON_CLOSE") and settings.getbool("WARC_ENABLED")):
            return
        from crawler.extensions.waczexport import WaczExport

        WaczExport(settings, self.crawler.stats).engine_stopped()

    def _exit_stats(self):
        """This worker's exit status is the run's: its seed URLs and the
        failure stats of the one list (crawler.core.failures), run-wide."""
        run, client, stats = self.run, self.run.client, self.crawler.stats
        raw = client.get(run.keys.done())
        if raw:
            record = json.loads(raw)
            seeds, failed, run_stats = record["seed_urls"], record["failed"], record["stats"]
        else:
            pipe = client.pipeline()
            pipe.get(run.keys.run("seed_urls"))
            pipe.hgetall(run.keys.run("outcomes"))
            pipe.hgetall(run.keys.run("stats"))
            raw_seeds, outcomes, raw_stats = pipe.execute()
            if raw_seeds is None:  # finalized meanwhile
                return self._exit_stats() if client.exists(run.keys.done()) else None
            run_stats = {k.decode(): int(v) for k, v in raw_stats.items()}
            urls = [url for url, _ in json.loads(raw_seeds)]
            done = {k.decode(): v.decode() for k, v in outcomes.items()}
            seeds = len(urls)
            failed = sum(1 for url in urls if done.get(url) not in SUCCESS)
            if not urls and run.spider_name != "refresh":
                failed = 1  # nothing to crawl is a misconfiguration
        for key in RUN_FAILURE_STATS:  # the commands' run_status counts them as the run's record does
            if run_stats.get(key):
                stats.set_value(key, max(int(stats.get_value(key) or 0), int(run_stats[key])))
        stats.set_value("archive/seed_urls", seeds)
        stats.set_value("archive/seed_urls_failed", failed)
        logger.info("shared run %s: %d seed URLs, %d failed (the whole run's)", run.run_id, seeds, failed)
