"""A WARC ``metadata`` record per article: its Markdown, tied to the capture.

The record's ``WARC-Concurrent-To`` is the response record the article was
extracted from, so an archivist holding only the WARC can get from the page
as served to the text as archived.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from crawler import markdown
from crawler.warc.records import metadata_record
from crawler.warc.writer import shared_writer


class WarcMetadataPipeline:
    def __init__(self, writer):
        self.writer = writer

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        if not (s.getbool("WARC_ENABLED") and s.getbool("WARC_METADATA_RECORDS")):
            raise NotConfigured("WARC metadata records are off")
        return cls(shared_writer(crawler))

    def process_item(self, item, spider=None):
        article = ItemAdapter(item)
        if article.get("outcome") == "unchanged":
            return item
        capture = article.get("capture") or {}
        record = metadata_record(
            self.writer.builder, article.get("url") or article["source_url"],
            markdown.render(article), capture.get("record_id"),
        )
        self.writer.write(record)
        return item
