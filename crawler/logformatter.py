"""Scrapy's log formatter, but a dropped article is one line, not its whole item.

A page whose extraction the Markdown pipeline refuses (empty, much shorter
than the stored copy, too long) is dropped with the reason, which Scrapy
logs at WARNING followed by the whole item: its every text block, some sixty
lines on a console that otherwise shows only warnings and the summary. The
reason and the address say all a reader needs; the item is in the WARC.
"""

from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy.logformatter import LogFormatter


class ArticleLogFormatter(LogFormatter):
    def dropped(self, item, exception, response, spider):
        entry = super().dropped(item, exception, response, spider)
        article = ItemAdapter(item) if ItemAdapter.is_item(item) else {}
        url = article.get("url") or article.get("source_url") or getattr(response, "url", None) or "an item"
        return {**entry, "msg": "Dropped %(url)s: %(exception)s", "args": {"url": url, "exception": exception}}
