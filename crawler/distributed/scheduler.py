"""scrapy-redis's scheduler, for a run that several workers share.

The queue is :class:`crawler.distributed.queue.LeasedQueue`. A request taken
from it is acknowledged once the engine is done with it: its callback or
errback has run, the items it yielded have been through the pipelines and
the requests it yielded are in the queue (a qq article's other host, its
images, a redirect's target). Scrapy removes a request from its in-progress
set exactly then, so every pop and every heartbeat acknowledges the leased
requests that left it. A worker that stops early puts its unfinished
requests back; one that dies leaves them to the lease timeout.

Unlike scrapy-redis's default, the queue and the dupefilter are never
flushed when a worker closes (the others still use them): they belong to the
run, and the last worker out deletes them. The dupefilter's key is per run,
so a later refresh is never blocked by an earlier run's fingerprints.

Redis lost mid-crawl: the error is logged once, ``shared/redis_lost`` is
set and the worker closes (reason ``redis_lost``, exit status 1); what it
had leased goes back to the queue after the lease timeout.
"""

from __future__ import annotations

import logging

from redis.exceptions import RedisError
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.misc import load_object
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.queue import LeasedQueue
from crawler.distributed.run import SharedRun, redacted

logger = logging.getLogger(__name__)

#: The queue class, scrapy-redis's ``SCHEDULER_QUEUE_CLASS`` (the add-on sets it).
QUEUE = "crawler.distributed.queue.LeasedQueue"
#: ``request.meta`` key: push this request only if none was pushed under
#: the same name in this run (the start requests). Taken out of the meta
#: when pushed.
ONCE = "shared_once"


class RunDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter on the run's key, kept when a worker closes."""

    def close(self, reason=""):
        pass


class SharedScheduler(Scheduler):
    """``SCHEDULER`` for a shared crawl (set by crawler.distributed.addon)."""

    @classmethod
    def from_crawler(cls, crawler):
        run = SharedRun.of(crawler)
        settings = crawler.settings
        scheduler = cls(server=run.client, persist=True, queue_key=run.keys.run("queue"),
                        queue_cls=settings.get("SCHEDULER_QUEUE_CLASS") or QUEUE,
                        dupefilter=RunDupeFilter(run.client, run.keys.run("dupefilter"),
                                                 debug=settings.getbool("DUPEFILTER_DEBUG")))
        scheduler.crawler, scheduler.run, scheduler.stats = crawler, run, crawler.stats
        scheduler.leased = {}  # lease id -> the request object the engine holds
        scheduler.redis_lost = False
        return scheduler

    def open(self, spider):
        self.spider = spider
        queue_cls = load_object(self.queue_cls)
        if not issubclass(queue_cls, LeasedQueue):
            raise ValueError(f"SCHEDULER_QUEUE_CLASS must lease its requests (a LeasedQueue), not {self.queue_cls}")
        self.queue = queue_cls(self.server, spider, self.queue_key, self.serializer,
                               worker=self.run.worker, lease_ms=self.run.lease_ms)
        waiting = self._guard(lambda: len(self.queue), 0)
        if waiting:
            logger.info("joined shared run %s: %d requests waiting", self.run.run_id, waiting)

    def close(self, reason):
        if self.redis_lost:
            return
        try:
            self.settle()
            if self.leased:
                # stopped before they were done: back in the queue for the others now
                lost = self.queue.release(list(self.leased))
                logger.warning("%d unfinished requests put back in the shared queue", len(self.leased) - len(lost))
                self.leased.clear()
        except RedisError as exc:
            self.lost(exc)

    # --- the engine's side ------------------------------------------------------

    def __len__(self):
        return self._guard(lambda: len(self.queue), 0)

    def has_pending_requests(self) -> bool:
        return len(self) > 0

    def enqueue_request(self, request) -> bool:
        # the mark is for this push only: a redirect or retry of the request
        # copies its meta, and must not be taken for the start request again
        once = request.meta.pop(ONCE, None)

        def push():
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            return self.queue.push(request, once=once)
        pushed = self._guard(push, False)
        if pushed and self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return pushed

    def next_request(self):
        def pop():
            self.settle()
            before = self.queue.reclaimed
            request = self.queue.pop()
            if self.queue.reclaimed > before:
                taken = self.queue.reclaimed - before
                logger.warning("%d requests whose lease ran out (a worker stopped or died) are back in the "
                               "shared queue", taken)
                if self.stats:
                    self.stats.inc_value("shared/requests_reclaimed", taken)
            return request
        request = self._guard(pop, None)
        if request is not None:
            self.leased[self.queue.last_id] = request
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
        return request

    # --- leases -------------------------------------------------------------------

    def settle(self) -> None:
        """Acknowledge the leased requests the engine has finished with."""
        slot = getattr(self.crawler.engine, "_slot", None)
        inprogress = slot.inprogress if slot is not None else set()
        done = [lease for lease, request in self.leased.items() if request not in inprogress]
        if not done:
            return
        lost = self.queue.ack(done)
        for lease in done:
            del self.leased[lease]
        if self.stats:
            self.stats.inc_value("shared/requests_acked", len(done) - len(lost))
        self._report_lost(lost)

    def extend_leases(self) -> None:
        """Renew this worker's leases (called by the heartbeat)."""
        self._report_lost(self.queue.extend(list(self.leased)))

    def _report_lost(self, lost) -> None:
        if lost:
            # it may be done twice now: its lease ran out (a reactor stall longer than
            # REDIS_LEASE_TIMEOUT) and another worker took it
            logger.warning("%d requests were taken back from this worker after their lease ran out", len(lost))
            if self.stats:
                self.stats.inc_value("shared/leases_lost", len(lost))

    # --- Redis lost -----------------------------------------------------------------

    def _guard(self, call, default):
        if self.redis_lost:
            return default
        try:
            return call()
        except RedisError as exc:
            self.lost(exc)
            return default

    def lost(self, exc) -> None:
        """Redis went away: say so once, and stop this worker."""
        if self.redis_lost:
            return
        self.redis_lost = True
        logger.error("lost the connection to Redis at %s (%s): stopping this worker; its unfinished requests "
                     "go back to the shared queue after REDIS_LEASE_TIMEOUT", redacted(self.run.settings.get("REDIS_URL")),
                     exc)
        if self.stats:
            self.stats.set_value("shared/redis_lost", 1)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason="redis_lost"))
