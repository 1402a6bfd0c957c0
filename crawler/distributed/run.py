"""One shared run: its keys in Redis, who takes part, and joining it.

Every key lives under ``REDIS_KEY_PREFIX`` (one prefix per archive):

* ``<prefix>:run``: the run in progress on this archive (id and spider), kept
  alive by its workers' heartbeats. It replaces the archive's file lock for a
  shared crawl: workers of the same spider join it, another command waits
  ``ARCHIVE_LOCK_TIMEOUT`` seconds and exits 75.
* ``<prefix>:run:<id>:*``: the run's queue, dupefilter, workers and outcomes,
  deleted by the last worker out once the run has finished.
* ``<prefix>:done:<id>``: a finished run's summary and exit status;
  ``<prefix>:last[:<spider>]`` names the latest.

A worker is ``host:pid:random``; its heartbeat key expires after
``REDIS_LEASE_TIMEOUT`` seconds, and so do the leases on its requests.

A worker's one :class:`SharedRun` is held by the :class:`RunHandle`
extension (the add-on lists it), found with :meth:`SharedRun.of`.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import time
from urllib.parse import urlsplit, urlunsplit

from crawler.core.timefmt import stamp_name, utcnow
from crawler.extensions.lookup import extension

logger = logging.getLogger(__name__)

#: Exit status of a worker that could not reach Redis.
EXIT_UNAVAILABLE = 1
#: A new run's slot outlives a slow start-up this long before heartbeats keep it.
STARTUP_GRACE_MS = 120_000


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached (at start, or lost mid-crawl)."""


def redacted(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password:
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def connect(settings):
    """A Redis client from the settings (scrapy-redis's ``REDIS_URL`` and
    ``REDIS_PARAMS``), checked with a PING."""
    from redis.exceptions import RedisError
    from scrapy_redis.connection import get_redis_from_settings

    client = get_redis_from_settings(settings)
    try:
        client.ping()
    except RedisError as exc:
        raise RedisUnavailable(f"Redis at {redacted(settings.get('REDIS_URL'))} is unreachable: {exc}") from None
    return client


class Keys:
    """Key names of one archive (``prefix``) and one run."""

    def __init__(self, prefix: str, run_id: str = ""):
        self.prefix = prefix
        self.run_id = run_id

    def archive(self, name: str) -> str:
        return f"{self.prefix}:{name}"

    def run(self, name: str) -> str:
        return f"{self.prefix}:run:{self.run_id}:{name}"

    @property
    def current(self) -> str:
        return self.archive("run")

    def done(self, run_id: str | None = None) -> str:
        return self.archive(f"done:{run_id or self.run_id}")

    def last(self, spider: str | None = None) -> str:
        return self.archive(f"last:{spider}" if spider else "last")


# Keep <prefix>:run alive, only while it names this run.
_TOUCH_RUN = """
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if cjson.decode(cur)['id'] ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# The finalizer: one worker, and none once the run is done.
_CLAIM = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
"""
# Let go of <prefix>:run if it still names this run.
_END_RUN = """
local cur = redis.call('GET', KEYS[1])
if cur and cjson.decode(cur)['id'] == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class SharedRun:
    """One worker's handle on the run it takes part in."""

    def __init__(self, client, settings, spider_name: str):
        self.client = client
        self.settings = settings
        self.spider_name = spider_name
        self.run_id = settings.get("REDIS_RUN_ID")
        if not self.run_id:
            raise RuntimeError("a shared crawl runs through `scrapy crawl` or `scrapy refresh`, which join "
                               "the run (REDIS_RUN_ID is not set)")
        self.keys = Keys(settings.get("REDIS_KEY_PREFIX"), self.run_id)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.lease_ms = int(settings.getfloat("REDIS_LEASE_TIMEOUT") * 1000)
        self.heartbeat_interval = settings.getfloat("REDIS_HEARTBEAT_INTERVAL")
        self.seeding = False  # this worker is pushing the run's work (crawler.distributed.start)
        self._touch_run = client.register_script(_TOUCH_RUN)

    @classmethod
    def of(cls, crawler) -> "SharedRun":
        """The crawl's one handle (the RunHandle extension's)."""
        return extension(crawler, RunHandle).run

    # --- taking part ----------------------------------------------------------

    def beat(self) -> None:
        """Say this worker is alive; keep the run's slot on the archive."""
        pipe = self.client.pipeline()
        pipe.set(self.keys.run(f"worker:{self.worker}"), utcnow(), px=self.lease_ms)
        pipe.sadd(self.keys.run("workers"), self.worker)
        pipe.execute()
        self._touch_run(keys=[self.keys.current], args=[self.run_id, self.lease_ms])

    def leave(self) -> None:
        pipe = self.client.pipeline()
        pipe.srem(self.keys.run("workers"), self.worker)
        pipe.delete(self.keys.run(f"worker:{self.worker}"))
        pipe.execute()

    def live_workers(self) -> list[str]:
        """Workers of the run whose heartbeat has not expired (the others are
        dropped from the run's list)."""
        members = sorted(m.decode() for m in self.client.smembers(self.keys.run("workers")))
        live = []
        for member in members:
            if self.client.exists(self.keys.run(f"worker:{member}")):
                live.append(member)
            else:
                self.client.srem(self.keys.run("workers"), member)
        return live

    # --- progress -------------------------------------------------------------

    def finished(self) -> bool:
        return bool(self.client.exists(self.keys.done()))

    def seeded(self) -> bool:
        return bool(self.client.exists(self.keys.run("seeded")))

    def progress(self) -> dict:
        pipe = self.client.pipeline()
        pipe.zcard(self.keys.run("queue:pending"))
        pipe.zcard(self.keys.run("queue:leases"))
        pipe.exists(self.keys.run("seeded"))
        pipe.exists(self.keys.done())
        pending, leased, seeded, done = pipe.execute()
        return {"pending": pending, "leased": leased, "seeded": bool(seeded), "done": bool(done)}

    def complete(self) -> bool:
        """Nothing left anywhere: seeded, queue empty, no request leased out."""
        state = self.progress()
        return state["done"] or (state["seeded"] and not state["pending"] and not state["leased"])

    def claim_finalizer(self) -> bool:
        """Become the one worker that closes the finished run (not if it is closed)."""
        return bool(self.client.register_script(_CLAIM)(
            keys=[self.keys.done(), self.keys.run("finalizer")], args=[self.worker, self.lease_ms]))

    def end(self) -> None:
        """Free the archive for the next run (only if it still names this one)."""
        self.client.register_script(_END_RUN)(keys=[self.keys.current], args=[self.run_id])


class RunHandle:
    """The extension that holds the worker's SharedRun, made with the
    extensions (Redis is reached then, as the run starts)."""

    def __init__(self, crawler):
        name = crawler.spidercls.name if crawler.spidercls else "crawl"
        self.run = SharedRun(connect(crawler.settings), crawler.settings, name)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


# --- joining, for the commands -------------------------------------------------

def new_run_id(spider: str) -> str:
    return f"{stamp_name()}-{spider}-{secrets.token_hex(2)}"


class RunFinished(Exception):
    """The run named by REDIS_RUN_ID has finished already."""

    def __init__(self, record: dict):
        super().__init__(record.get("run"))
        self.record = record


def join(client, settings, spider: str, sleep=time.sleep, clock=time.monotonic) -> tuple[str, bool]:
    """The id of the run to take part in, and whether this worker started it.

    Joins the run in progress on the archive when it is this spider's (and
    the REDIS_RUN_ID given, if any); starts one when there is none; waits
    ``ARCHIVE_LOCK_TIMEOUT`` seconds for another command's run to end, then
    raises :class:`crawler.archive.lock.ArchiveLocked`. A REDIS_RUN_ID that has
    finished raises :class:`RunFinished`.
    """
    from crawler.archive.lock import ArchiveLocked

    keys = Keys(settings.get("REDIS_KEY_PREFIX"))
    wanted = settings.get("REDIS_RUN_ID") or ""
    lease_ms = int(settings.getfloat("REDIS_LEASE_TIMEOUT") * 1000)
    timeout = max(settings.getfloat("ARCHIVE_LOCK_TIMEOUT"), 0)
    deadline = clock() + timeout
    while True:
        if wanted:
            record = client.get(keys.done(wanted))
            if record:
                raise RunFinished(json.loads(record))
        raw = client.get(keys.current)
        if raw is None:
            run_id = wanted or new_run_id(spider)
            value = json.dumps({"id": run_id, "spider": spider, "started": utcnow(),
                                "by": f"{socket.gethostname()}:{os.getpid()}"})
            # room for the workers to start up before their first heartbeat
            if client.set(keys.current, value, nx=True, px=max(lease_ms, STARTUP_GRACE_MS)):
                return run_id, True
            continue
        current = json.loads(raw)
        if current["spider"] == spider and (not wanted or current["id"] == wanted):
            return current["id"], False
        if clock() >= deadline:
            raise ArchiveLocked(
                f"the archive is in use by the shared run {current['id']} ({current['spider']}, started "
                f"{current['started']} by {current['by']}); waited {timeout:g} s (ARCHIVE_LOCK_TIMEOUT)")
        sleep(min(1.0, max(deadline - clock(), 0.01)))
