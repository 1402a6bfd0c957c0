"""Signals of the crawler's own (Scrapy's signal API, custom objects)."""

#: A URL could not be archived. Arguments: url, reason, spider.
url_failed = object()
