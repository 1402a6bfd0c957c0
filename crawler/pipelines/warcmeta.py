"""Per archived article, its Markdown in the WARC, tied to the capture.

Two records: a ``resource`` record ``urn:markdown:<url>`` with the Markdown
(``WARC-Refers-To`` the response it came from), and a ``metadata`` record
(``application/warc-fields``, ``WARC-Concurrent-To`` the response) naming the
article file, its outcome, its extractor and the resource record. An
archivist holding only the WARC gets from the page as served to the text as
archived, and replay tools still serve the page, never the Markdown.
"""

from __future__ import annotations

from itemadapter import ItemAdapter

from crawler.core import markdown
from crawler.extensions.archiveio import run_io
from crawler.extensions.warcwriter import shared_writer
from crawler.featureoff import feature_off
from crawler.warc.records import article_records


class WarcMetadataPipeline:
    def __init__(self, writer, crawler=None):
        self.writer = writer
        self.crawler = crawler  # None: write in the calling thread (tests of the component)

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not (s.getbool("WARC_ENABLED") and s.getbool("WARC_METADATA_RECORDS")):
            raise feature_off(__name__, "WARC metadata records are off")
        return cls(shared_writer(crawler), crawler)

    async def process_item(self, item, spider=None):
        return await run_io(self.crawler, self.write, item)

    def write(self, item):
        """The article's text and metadata records, written together (and
        before them, those of replaced copies never recorded: ``late``)."""
        article = ItemAdapter(item)
        url = article.get("url") or article["source_url"]
        for late in article.get("late") or ():
            if not late["done"]["text"]:
                self._records(url, late["text"], late["capture"], article, late["path"], late["outcome"],
                              late["digest"])
        recorded = article.get("recorded") or {}
        if article.get("outcome") == "unchanged" or recorded.get("text"):
            return item  # (recorded: a killed run wrote it; once is enough)
        # the capture the text came from: this one, or for an outcome recorded
        # late, the one the file names (crawler.state.recorded reads it back)
        capture_id = recorded["capture"] if "capture" in recorded else (article.get("capture") or {}).get("record_id")
        self._records(url, article.get("rendered") or markdown.render(article), capture_id, article,
                      article.get("path"), article.get("outcome"), article.get("text_digest"))
        return item

    def _records(self, url, markdown_text, capture_id, article, path, outcome, digest) -> None:
        self.writer.write(*article_records(self.writer.builder, url, markdown_text, capture_id, path, outcome, digest,
                                           article.get("extractor"), article.get("source_url")))
