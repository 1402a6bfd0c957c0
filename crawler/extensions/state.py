"""Record every article outcome in the capture state and the change log.

Listens to the outcomes a crawl or refresh produces (an article archived,
changed or unchanged; unchanged without extraction; gone; failed) and keeps
``crawler.state`` and ``archive/changes.jsonl`` true to them. The store
names the last full capture of each article (what revisits refer to) and
its validators; the change log gets one line per archived, changed, gone and
back event. An article file a killed run wrote and never recorded has its
outcome recorded first, late, whatever the check finds: a gone or failed
check too (crawler/state/late.py), not only a page that comes again.

The store is the crawl's one (crawler.extensions.statestore). A shared crawl
puts a subclass in this one's place (crawler.distributed.state) that holds
each article's lock across workers while it records, and guards the change
log: :meth:`ArchiveStateRecorder.article_lock` and ``changelog_guard`` here
are a single machine's, which needs neither.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import nullcontext

from itemadapter import ItemAdapter

from crawler import signals as crawler_signals
from crawler import sites
from crawler.archive.changelog import ChangeLog
from crawler.archive.storage import ArchiveStore
from crawler.core.digest import same_digest, text_digest
from crawler.core.timefmt import utcnow
from crawler.extensions.archiveio import io_executor, run_io
from crawler.extensions.evidence import recorded_evidence
from crawler.extensions.statestore import state_store
from crawler.extensions.warcwriter import WarcWriterExtension
from crawler.items import outcome_word
from crawler.state.late import unrecorded_outcome, unrecorded_versions
from crawler.state.model import FAILING, GONE, OK, ArticleState
from crawler.warc.records import article_records

logger = logging.getLogger(__name__)


class ArchiveStateRecorder:
    def __init__(self, crawler, store=None):
        self.crawler = crawler
        self.archive = ArchiveStore(crawler.settings.get("ARCHIVE_DIR"))
        self.changes = ChangeLog(self.archive, guard=self.changelog_guard())
        self.pending: set = set()  # outcomes handed to the archive I/O thread, not yet recorded
        self._store = store  # given: a component test's; else the crawl's one, at first use

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler)
        crawler_signals.connect_handlers(crawler, ext, "spider_opened", "item_scraped", "item_dropped", "url_failed",
                                         "article_unchanged", "article_gone", "spider_closed")
        return ext

    def _off_reactor(self, function, *args, **kwargs) -> None:
        """Record an outcome that comes as a signal in the archive I/O thread
        (SQLite, the change log, a shared run's Redis locks: never on the
        reactor), in order with the archive's other writes. Scrapy does not
        wait for a signal handler's work: the run waits for it when the
        spider closes (``spider_closed``), before the state is written back."""
        future = io_executor(self.crawler).submit(function, *args, **kwargs)
        self.pending.add(future)
        future.add_done_callback(self.pending.discard)

    def drain(self) -> None:
        """Wait for every outcome handed to the I/O thread (a component test)."""
        for future in list(self.pending):
            future.result()

    async def spider_closed(self, spider, reason=None):
        while self.pending:
            await asyncio.wrap_future(next(iter(self.pending)))

    @property
    def store(self):
        return self._store if self._store is not None else state_store(self.crawler)

    def spider_opened(self, spider):
        """Open (or rebuild) the state before the first article is written:
        a rebuild that ran later would find this run's first files and take
        them for articles archived before."""
        self.store  # noqa: B018 - opened

    # --- what a shared crawl holds while it records (crawler.distributed.state) ---

    def article_lock(self, key: str):
        """A context manager held while the article's outcome is recorded."""
        return nullcontext()

    def changelog_guard(self):
        """The change log's guard (crawler.archive.changelog.ChangeLog); none here."""
        return None

    # --- outcomes -----------------------------------------------------------

    async def item_scraped(self, item, response, spider):
        try:
            await run_io(self.crawler, self.record_article, item)
        except Exception as exc:  # Scrapy would log a signal handler's error and go on, exit 0
            self._error(ItemAdapter(item).get("source_url"), exc)

    def _error(self, url, exc) -> None:
        """An outcome that could not be recorded: named, counted (exit 1)."""
        logger.error("state not recorded for %s: %s: %s", url, type(exc).__name__, exc)
        self.crawler.stats.inc_value("state/errors")

    def record_article(self, item):
        """An archived, changed or unchanged article (in the archive I/O thread)."""
        article = ItemAdapter(item)
        with self.article_lock(article.get("key") or sites.article_key(article["source_url"])):
            self._record_article(article)

    def _record_article(self, article):
        outcome = article.get("outcome")
        if outcome not in ("archived", "updated", "unchanged"):
            return
        key = article.get("key") or sites.article_key(article["source_url"])
        previous = self.store.get(key)
        if article.get("same_as"):
            # another seed URL of this run wrote the article: a check of the
            # row that holds the file, never a row of its own that would take
            # the file over (the first URL's recording makes the row)
            held = self.store.by_path(article["path"])
            if held is not None:
                self._checked(held, held.status, utcnow(), article["source_url"])
                self.store.put(held)
            return
        now = utcnow()
        capture = article.get("capture") or {}
        state = previous or ArticleState(key=key, path=article["path"], site=article.get("site") or "web",
                                         source_url=article["source_url"])
        state.path, state.site = article["path"], article.get("site") or state.site
        state.seed = article.get("seed") or state.seed
        state.url, state.title = article.get("url"), article.get("title") or state.title
        state.browser = 1 if article.get("browser") else 0
        self._checked(state, previous.status if previous else None, now, article["source_url"])
        if capture.get("record_id") and not capture.get("revisit"):
            self._full_capture(state, capture, article.get("validators") or {})
        state.refused_record_id = state.refused_date = state.refused_uri = state.refused_digest = None
        digest = article.get("text_digest") or text_digest(self.archive.read_text(article["path"]))
        if outcome != "unchanged" or previous is None or not state.text_digest:
            state.text_digest = digest
            state.last_changed = capture.get("date") or now
            state.first_captured = state.first_captured or capture.get("date") or now
        elif same_digest(state.text_digest, digest) is not True:
            # "unchanged": the file holds this text. A digest of an earlier
            # algorithm is named anew; one the state fell behind on (a kill
            # between the event and the state write) catches up
            state.text_digest = digest
        # the event before the state: a crash between the two leaves the event
        # logged (the next check finds the state behind, not the log), and
        # crawler.state.recorded finds it there: an event is never logged twice
        for late in article.get("late") or ():  # the replaced copies' own outcomes, first
            if not late["done"]["event"]:
                self._late_event(late, state, now)
        recorded = article.get("recorded") or {}
        record_id = recorded["capture"] if "capture" in recorded else capture.get("record_id")
        if recorded.get("event"):
            pass
        elif outcome == "archived" and (previous is None or recorded):
            self._event("archived", state, now, record_id=record_id, text_digest=digest,
                        recorded_late=True if recorded else None)
        elif outcome == "updated":
            change = article.get("change") or {}
            self._event("changed", state, now, previous_version=change.get("previous_version"),
                        previous_record_id=change.get("previous_record_id"),
                        record_id=record_id, counts=change.get("counts"), text_digest=digest,
                        reverted_to=change.get("reverted_to"), recorded_late=change.get("recorded_late"),
                        cause=change.get("cause"))
        self.store.put(state)

    # Outcomes that come as signals, not items: a failure to record one is
    # named and counted as state/errors (exit 1), as an archived article's
    # is (Scrapy would only log a signal handler's error, and exit 0).

    def article_unchanged(self, url, key, capture=None, validators=None, spider=None):
        self._off_reactor(self._recording, url, self._unchanged, url, key, validators)

    def article_gone(self, url, key, reason, spider=None):
        self._off_reactor(self._recording, url, self._gone, url, key, reason)

    def url_failed(self, url, reason, spider=None, kind=None):
        # a refresh knows the stored key of each URL it checks (never derived again)
        self._off_reactor(self._failed, url, reason, key=getattr(spider, "keys_by_url", {}).get(url))

    def item_dropped(self, item, response, exception, spider):
        article = ItemAdapter(item)
        capture = article.get("capture") or {}
        refused = capture if capture.get("record_id") and not capture.get("revisit") else None
        self._off_reactor(self._failed, article.get("source_url"), str(exception), key=article.get("key"),
                          refused=refused)

    def _recording(self, url, function, *args) -> None:
        try:
            function(*args)
        except Exception as exc:  # noqa: BLE001 - named and counted
            self._error(url, exc)

    def _unchanged(self, url, key, validators):
        with self.article_lock(key):
            state = self.store.get(key)
            if state is None:
                return
            self._checked(state, state.status, utcnow(), url)
            for name, value in (validators or {}).items():
                if value:  # a 304 may carry a new validator
                    setattr(state, name, value)
            self.store.put(state)

    def _gone(self, url, key, reason):
        with self.article_lock(key):
            state = self.store.get(key)
            if state is None:
                return
            now = utcnow()
            self._record_late(state, now)
            was = state.status
            state.last_checked, state.last_error = now, reason
            if was != GONE:
                state.status, state.status_since = GONE, now
                if recorded_evidence(self.crawler).last_status(state.path) != "gone":
                    self._event("gone", state, now, reason=reason)
            self.store.put(state)

    def _record_late(self, state: ArticleState, now: str) -> None:
        """The stored file's own outcome, when a killed run wrote it and never
        recorded it (crawler/state/late.py): its WARC text record and its
        event, each only if missing, and the state's digest, before this
        check's gone or failure is said. A page that comes again goes through
        the pipelines instead (crawler/pipelines/recordrepair.py)."""
        evidence = recorded_evidence(self.crawler)
        late = unrecorded_outcome(self.archive, evidence, state.path, state.text_digest)
        if late is None:
            return
        # the copies it replaced first, when they were never recorded either (killed twice in a row)
        for copy in [*unrecorded_versions(self.archive, evidence, state.path, state.text_digest), late]:
            self._write_late(copy, state, now)
        state.text_digest = late["digest"]
        state.last_changed = late["date"] or now

    def _write_late(self, late: dict, state: ArticleState, now: str) -> None:
        """One outcome recorded late: its WARC text record and its event, each only if missing."""
        done, outcome = late["done"], late["outcome"]
        if not (done["text"] and done["event"]):
            warc = self.crawler.get_extension(WarcWriterExtension)
            if not done["text"] and warc is not None and self.crawler.settings.getbool("WARC_METADATA_RECORDS"):
                writer = warc.ready_writer()
                writer.write(*article_records(writer.builder, late["url"] or state.source_url, late["text"],
                                              late["capture"], state.path, outcome, late["digest"],
                                              late["extractor"], state.source_url))
            if not done["event"]:
                self._late_event(late, state, now)
            logger.warning("%s: %s of %s was written but never recorded (the run that wrote it stopped): "
                           "recorded now, before this check's outcome", state.source_url,
                           "a new version" if outcome == "updated" else "the first capture", state.path)
            self.crawler.stats.inc_value("archive/recorded_late")
            self.crawler.stats.inc_value(f"archive/{outcome_word(outcome)}")

    # --- helpers --------------------------------------------------------------

    def _failed(self, url, reason, key=None, refused=None):
        """A failed check changes nothing stored but the state's failure
        count (and, for a refused extraction, which capture was refused)."""
        if not url:
            return
        try:
            self._count_failure(url, reason, key or sites.article_key(url), refused)
        except Exception as exc:  # noqa: BLE001 - named and counted
            self._error(url, exc)

    def _count_failure(self, url, reason, key, refused):
        with self.article_lock(key):
            state = self.store.get(key)
            if state is None:
                return
            now = utcnow()
            self._record_late(state, now)
            state.failures += 1
            state.last_checked, state.last_error = now, reason
            if refused:
                state.refused_record_id, state.refused_date = refused["record_id"], refused.get("date")
                state.refused_uri, state.refused_digest = refused.get("uri"), refused.get("payload_digest")
            if state.status == OK:
                state.status, state.status_since = FAILING, state.last_checked
            self.store.put(state)

    def _checked(self, state: ArticleState, was: str | None, now: str, url: str):
        """A successful check: the failure count resets; a gone article is back."""
        state.last_checked, state.failures, state.last_error = now, 0, None
        if was == GONE:
            if recorded_evidence(self.crawler).last_status(state.path) != "back":
                self._event("back", state, now)
            self.crawler.signals.send_catch_log(crawler_signals.article_back, url=url, key=state.key,
                                                spider=self.crawler.spider)
        if state.status != OK:
            state.status, state.status_since = OK, now

    def _full_capture(self, state: ArticleState, capture: dict, validators: dict):
        state.warc_file, state.warc_record_id = capture.get("warc_file"), capture.get("record_id")
        state.warc_date, state.warc_uri = capture.get("date"), capture.get("uri")
        state.payload_digest = capture.get("payload_digest")
        state.etag, state.last_modified = validators.get("etag"), validators.get("last_modified")

    def _late_event(self, late: dict, state: ArticleState, now: str) -> None:
        """The event of an outcome recorded late (``late``: crawler/state/late.py's, or the
        recordrepair pipeline's for a replaced copy): archived or changed, ``recorded_late``."""
        change = late["change"] or {}
        self._event("changed" if late["outcome"] == "updated" else "archived", state, now,
                    record_id=late["capture"], text_digest=late["digest"],
                    previous_version=change.get("previous_version"),
                    previous_record_id=change.get("previous_record_id"), counts=change.get("counts"),
                    reverted_to=change.get("reverted_to"), recorded_late=True)

    def _event(self, event: str, state: ArticleState, now: str, **details):
        self.changes.append({"time": now, "event": event, "url": state.source_url, "article": state.path,
                             "title": state.title, **details})
