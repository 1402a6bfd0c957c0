"""An outcome written to disk but never recorded is recorded when the article comes again.

The Markdown pipeline writes the article; the WARC text record, the change
log and the capture state follow (crawler.state.recorded). A run killed in between
(``kill -9``, a full disk on the WARC, a dead worker of a shared run), or a
state deleted and rebuilt since, leaves a file whose outcome the state does
not know. The next check finds the same text on disk and would call it
"unchanged", and the change would never be logged. This pipeline (after the
Markdown one) turns such an "unchanged" back into what happened, "archived"
or "updated" (the version the file replaced is the newest under
versions/), and says which records already exist, so that each one is
written once: the WARC metadata pipeline skips a text record that is there,
the state recorder an event that is there. Single and shared runs alike.
"""

from __future__ import annotations

import logging

from itemadapter import ItemAdapter

from crawler import sites
from crawler.archive.storage import ArchiveStore
from crawler.archive.versions import article_versions
from crawler.core import markdown
from crawler.core.digest import same_digest, text_digest
from crawler.extensions.archiveio import run_io
from crawler.extensions.evidence import recorded_evidence
from crawler.extensions.statestore import state_store
from crawler.items import outcome_word
from crawler.state.late import late_change, unrecorded_outcome

logger = logging.getLogger(__name__)


class UnrecordedOutcomes:
    def __init__(self, crawler):
        self.crawler = crawler
        self.archive = ArchiveStore(crawler.settings.get("ARCHIVE_DIR"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item, spider=None):
        return await run_io(self.crawler, self.repair, item)

    def repair(self, item):
        article = ItemAdapter(item)
        if article.get("outcome") == "updated":
            self._replaced_unrecorded(article)
            return item
        if article.get("outcome") != "unchanged" or article.get("same_as") or not article.get("path") \
                or not self.archive.exists(article["path"]):
            return item  # (same_as: written by this run, under another seed URL)
        state = self._state(article)
        # "unchanged": the file holds this text, so its digest is the article's
        recorded = state.text_digest if state is not None else None
        if recorded and same_digest(recorded, article["text_digest"]) is not False:
            return item  # recorded (or by another digest algorithm: the state recorder brings it up to date)
        path = article["path"]
        late = unrecorded_outcome(self.archive, recorded_evidence(self.crawler), path, recorded)
        if late is None:
            return item
        article["rendered"] = late["text"]  # its text record holds the file as it is
        done, capture = late["done"], late["capture"]
        if done["text"] and done["event"]:
            # recorded but for the state (a kill between the event and the
            # state write): "unchanged", and the state recorder catches up
            logger.info("%s: %s was recorded but for the capture state: state brought up to date",
                        article["source_url"], path)
            return item
        outcome = late["outcome"]
        what = "new version" if outcome == "updated" else "first capture"
        if late["change"]:
            article["change"] = late["change"]
        article["recorded"] = {**done, "capture": capture}
        missing = [name for name, ok in (("WARC text record", done["text"]), ("change-log event", done["event"]),
                                         ("capture state", False)) if not ok]
        logger.warning("%s: %s of %s was written but never recorded (the run that wrote it stopped): "
                       "recorded now (%s)", article["source_url"], what, path, ", ".join(missing))
        self.crawler.stats.inc_value("archive/recorded_late")
        self.crawler.stats.inc_value(f"archive/{outcome_word(outcome)}")
        article["outcome"] = outcome
        return item

    def _state(self, article):
        return state_store(self.crawler).get(article.get("key") or sites.article_key(article["source_url"]))

    def _replaced_unrecorded(self, article) -> None:
        """A new version replaced a copy whose own outcome was never recorded
        (a run killed after writing it, the page changed again since): that
        outcome is recorded first, late (``article["late"]``: its text
        record and its event, each only if missing), so that no version
        exists that the change log and the WARC never heard of."""
        path, previous = article["path"], (article.get("change") or {}).get("previous_version")
        state = self._state(article)
        if not previous or not self.archive.exists(previous):
            return
        try:
            text = self.archive.read_text(previous)
            digest, meta = text_digest(text), markdown.parse(text)[0]
        except Exception:  # a copy damaged by hand or by disk: no outcome of the crawler's to record
            return
        if state is not None and state.text_digest and same_digest(state.text_digest, digest) is not False:
            return  # its outcome was recorded: the state's text is this copy's
        capture = meta.get("warc_record_id")
        evidence = recorded_evidence(self.crawler)
        done = {"text": evidence.text(path, capture, digest, url=meta.get("fetched_url")),
                "event": evidence.event(path, capture, digest)}
        if done["text"] and done["event"]:
            return  # only the state was behind: the state recorder brings it up to date
        versions = [v for v in article_versions(self.archive, path) if not v.current]
        before = versions[-2] if len(versions) >= 2 and versions[-1].file == previous else None
        article["late"] = {
            "path": path, "text": text, "capture": capture, "digest": digest, "done": done,
            "outcome": "updated" if before else "archived",
            "change": late_change(before, text, versions[:-2]) if before else None,
        }
        logger.warning("%s: %s of %s (now %s) was written but never recorded (the run that wrote it stopped): "
                       "recorded now, before the new version", article["source_url"],
                       "a version" if before else "the first capture", path, previous)
        self.crawler.stats.inc_value("archive/recorded_late")
