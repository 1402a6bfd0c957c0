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
from crawler.extensions.archiveio import run_io
from crawler.extensions.evidence import recorded_evidence
from crawler.extensions.statestore import state_store
from crawler.items import outcome_word
from crawler.state.late import held_by_state, unrecorded_outcome, unrecorded_versions

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
            # a new version replaced copies whose outcomes were never recorded
            # (a run killed after writing one, or two in a row): those first
            self._late_copies(article, "before the new version",
                              replaced=(article.get("change") or {}).get("previous_version"))
            return item
        if article.get("outcome") != "unchanged" or article.get("same_as") or not article.get("path") \
                or not self.archive.exists(article["path"]):
            return item  # (same_as: written by this run, under another seed URL)
        state = self._state(article)
        # "unchanged": the file holds this text, so its digest is the article's
        recorded = state.text_digest if state is not None else None
        path = article["path"]
        if held_by_state(recorded_evidence(self.crawler), path, article.get("stored_capture"), article["text_digest"],
                         recorded):
            return item  # recorded (or by another digest algorithm: the state recorder brings it up to date)
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
        self._late_copies(article, "before this one")  # a copy it replaced may be unrecorded too
        what = "new version" if outcome == "updated" else "first capture"
        if late["change"]:
            article["change"] = late["change"]
        article["recorded"] = {**done, "capture": capture}
        missing = [name for name, ok in (("WARC text record", done["text"]), ("change-log event", done["event"]),
                                         ("capture state", False)) if not ok]
        logger.warning("%s: %s of %s was written but never recorded (the run that wrote it stopped): "
                       "recording it now (%s)", article["source_url"], what, path, ", ".join(missing))
        self.crawler.stats.inc_value("archive/recorded_late")
        self.crawler.stats.inc_value(f"archive/{outcome_word(outcome)}")
        article["outcome"] = outcome
        return item

    def _state(self, article):
        return state_store(self.crawler).get(article.get("key") or sites.article_key(article["source_url"]))

    def _late_copies(self, article, before: str, replaced: str | None = None) -> None:
        """The article's earlier copies whose outcomes were never recorded,
        oldest first, as ``article["late"]`` (each one's text record and
        event, only if missing, written before the article's own), so that
        no version exists that the change log and the WARC never heard of.
        ``replaced``: the copy this run just moved under versions/."""
        state = self._state(article)
        late = unrecorded_versions(self.archive, recorded_evidence(self.crawler), article["path"],
                                   state.text_digest if state is not None else None, replaced=replaced)
        if not late:
            return
        article["late"] = late
        for copy in late:
            logger.warning("%s: %s of %s (%s) was written but never recorded (the run that wrote it stopped): "
                           "recording it %s", article["source_url"],
                           "a version" if copy["outcome"] == "updated" else "the first capture", article["path"],
                           copy["date"] or "date unknown", before)
            self.crawler.stats.inc_value("archive/recorded_late")
