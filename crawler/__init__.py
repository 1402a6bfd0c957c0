"""News article archiving crawler: seeds -> Scrapy -> seed-format Markdown + WARC."""

__version__ = "0.1.0"
