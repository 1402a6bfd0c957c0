"""Change alerts: ``archive/changes.atom`` and one notification per run.

Two extensions, both acting when the spider closes, once every outcome of
the run is recorded (a shared run's notification: when the run closes):

* ``ChangeFeed`` rewrites ``archive/changes.atom`` (the last
  ``CHANGES_FEED_ENTRIES`` events of ``changes.jsonl``, newest first,
  crawler/exports/alerts.py) after a run that recorded events, atomically through
  crawler/archive/storage.py. Stats ``feed/entries``, or ``feed/failed``.
* ``ChangeNotify`` sends one notification listing the run's changed, gone
  and back articles (newly archived ones counted) to every ``NOTIFY_URLS``
  target through Apprise; nothing when the run recorded nothing. Stats
  ``notify/events``, ``notify/sent``, ``notify/failed``. A target that fails
  is logged and counted, and never changes the run's exit status.

**Which events are the run's.** The change log is read from the byte it
ended at when the run started (the ``RunEvents`` extension), not collected from the
writer as events happen. The log is the record: whatever appended to it
this run (the state recorder, a late record of an outcome a killed run
wrote, in the reactor or the archive I/O thread) is in it, and nothing that
failed to reach it (a full disk) is announced. No other process appends
meanwhile: the run holds the archive's lock. The log is read once the
archive I/O thread has done everything asked of it before the spider
closed (a no-op queued behind the outcomes the state recorder hands it), so
the last outcomes are in; and in ``spider_closed``, so that the stats above
are in the run's stats dump.

**Shared runs (REDIS_URL).** The add-on puts subclasses of both in their
place (crawler/distributed/notify.py): every worker rewrites the feed when
the log grew since it started, holding the change log's lock, so the last
rewrite has every event. The notification is sent once, by the last worker
out, when it closes the run: the run's events are those after the byte the
log ended at when the run's first worker opened (kept in Redis with the run).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid

from scrapy import signals

from crawler.archive.changelog import ChangeLog
from crawler.archive.storage import ArchiveStore
from crawler.exports.alerts import atom_feed, message
from crawler.extensions.archiveio import run_io
from crawler.extensions.lookup import extension
from crawler.featureoff import feature_off, needs_number

logger = logging.getLogger(__name__)

FEED = "changes.atom"


class RunEvents:
    """The change-log events appended during this run: an extension (listed
    before the two below, which ask for it when they act)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = ArchiveStore(crawler.settings.get("ARCHIVE_DIR"))
        self.log = ChangeLog(self.archive)
        self.offset = self.log.size()  # taken when the extensions are made: before the engine starts

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def settled(self) -> None:
        """Wait until the archive I/O thread has done what was queued before
        now: outcomes the state recorder handed it included."""
        await run_io(self.crawler, lambda: None)

    async def read(self) -> list[dict]:
        await self.settled()
        return self.log.events_since(self.offset)

    def grew(self) -> bool:
        return self.log.size() != self.offset


class ChangeFeed:
    """``archive/changes.atom`` after every run that recorded events."""

    def __init__(self, crawler, entries: int):
        self.crawler = crawler
        self.entries = entries
        settings = crawler.settings
        self.site_url = settings.get("SITE_BASE_URL") or ""
        self.feed_id = uuid.uuid5(uuid.NAMESPACE_URL,
                                  self.site_url or ArchiveStore(settings.get("ARCHIVE_DIR")).root.as_uri()).urn

    @property
    def events(self) -> RunEvents:
        return extension(self.crawler, RunEvents)

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, needs_number(crawler.settings, "CHANGES_FEED_ENTRIES", __name__))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    async def spider_closed(self, spider, reason=None):
        try:
            # in the archive I/O thread: after every outcome queued there
            written = await run_io(self.crawler, self.write)
        except Exception as exc:  # noqa: BLE001 - the feed is derived: logged, counted, rewritten next run
            logger.error("%s not written: %s: %s", FEED, type(exc).__name__, exc)
            self.crawler.stats.set_value("feed/failed", 1)
            return
        if written is not None:
            self.crawler.stats.set_value("feed/entries", written)

    def write(self) -> int | None:
        """Rewrite the feed if the log grew this run (or the feed is missing);
        the number of entries written, None when nothing was to do."""
        archive = self.events.archive
        if not self.events.grew() and archive.exists(FEED):
            return None
        return self._write()

    def _write(self) -> int | None:
        events = self.events.log.last(self.entries)
        if not events:
            return None
        self.events.archive.write_bytes(FEED, atom_feed(events, self.feed_id, self.site_url))
        logger.info("%s written: the last %d change-log events", FEED, len(events))
        return len(events)


def parse_urls(value) -> list[str]:
    """``NOTIFY_URLS``: a list, a JSON list, or one string of URLs separated
    by spaces or commas (a comma inside a URL, as in
    ``mailto://…?to=a@x,b@y``, stays: only one before a new ``scheme://``
    separates)."""
    if not value:
        return []
    if isinstance(value, str) and value.lstrip().startswith("["):
        value = json.loads(value)
    if isinstance(value, str):
        value = re.split(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)", value.strip())
    return [url.strip() for url in value if url and url.strip()]


def _redacted(url: str) -> str:
    """A URL Apprise did not take, named without its secrets: its scheme."""
    return url.split("://", 1)[0] + "://…" if "://" in url else "(not a URL)"


class ChangeNotify:
    """One notification per run with events, to every ``NOTIFY_URLS`` target,
    when the spider closes (a shared run's: crawler.distributed.notify)."""

    def __init__(self, crawler, urls: list[str]):
        self.crawler = crawler
        self.urls = urls
        settings = crawler.settings
        self.site_url = settings.get("SITE_BASE_URL") or ""
        self.limit = settings.getint("NOTIFY_MAX_ARTICLES")

    @classmethod
    def from_crawler(cls, crawler):
        urls = parse_urls(crawler.settings.get("NOTIFY_URLS"))
        if not urls:
            raise feature_off(__name__, "NOTIFY_URLS is empty")
        ext = cls(crawler, urls)
        ext.connect(crawler.signals)
        return ext

    def connect(self, signals_manager) -> None:
        signals_manager.connect(self.spider_closed, signal=signals.spider_closed)

    @property
    def events(self) -> RunEvents:
        return extension(self.crawler, RunEvents)

    def _run_name(self, spider=None) -> str:
        name = getattr(spider, "name", None) or getattr(self.crawler.spidercls, "name", "")
        return "refresh" if name == "refresh" else "crawl"

    # --- a single-machine run -------------------------------------------------

    async def spider_closed(self, spider, reason=None):
        try:
            note = self._note(await self.events.read(), self._run_name(spider), "this run")
        except Exception as exc:  # noqa: BLE001 - never fails the run
            self._not_made(exc)
            return
        if note is not None:
            # Apprise's senders block (HTTP, SMTP): in a thread, off the reactor
            self._report(await asyncio.to_thread(self.send, *note))

    # --- sending ----------------------------------------------------------------

    def _note(self, events: list[dict], run: str, where: str, log: logging.Logger = logger):
        """The notification of these events (Apprise's title and body), their count in the
        stats; None, said in ``log``, when they hold no change to announce."""
        note = message(events, self.site_url, run=run, limit=self.limit)
        if note is None:
            log.info("no change recorded %s: no notification sent", where)
            return None
        self.crawler.stats.set_value("notify/events", len(events))
        return note

    def _not_made(self, exc: Exception) -> None:
        logger.error("change notification not made: %s: %s", type(exc).__name__, exc)
        self.crawler.stats.inc_value("notify/failed")

    def _report(self, results) -> None:
        stats = self.crawler.stats
        for target, error in results:
            if error is None:
                logger.info("change notification sent to %s", target)
                stats.inc_value("notify/sent")
            else:
                logger.error("change notification not sent to %s: %s", target, error)
                stats.inc_value("notify/failed")

    def send(self, title: str, body: str) -> list[tuple[str, str | None]]:
        """Each target on its own, so each failure is named and counted:
        ``[(target without its secrets, None or why it failed)]``."""
        import apprise

        results = []
        for url in self.urls:
            target = _redacted(url)
            try:
                sender = apprise.Apprise()
                if not sender.add(url):
                    results.append((target, "not an Apprise URL it can use"))
                    continue
                target = sender[0].url(privacy=True)
                sent = sender.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT)
                results.append((target, None if sent else "the service refused it or was not reached "
                                                            "(Apprise's warning above says which)"))
            except Exception as exc:  # noqa: BLE001 - a target's failure is its own
                results.append((target, f"{type(exc).__name__}: {exc}"))
        return results
