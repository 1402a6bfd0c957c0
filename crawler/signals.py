"""Signals of the crawler's own (Scrapy's signal API, custom objects)."""

from scrapy import signals as scrapy_signals

#: A URL could not be archived. Arguments: url, reason, kind, spider.
url_failed = object()
#: A refresh found an archived article unchanged without extracting it (a
#: 304, or the byte-identical payload). Arguments: url, key, capture, validators, spider.
article_unchanged = object()
#: A refresh found an archived article gone (404/410, redirected away).
#: Arguments: url, key, reason, spider.
article_gone = object()
#: An article that was gone answers again. Arguments: url, key, spider.
article_back = object()
#: The last worker out of a shared run is closing it: every worker has left,
#: the state is written back, the run's keys are still in Redis. Sent in
#: that worker only (crawler.distributed.extension). No arguments.
shared_run_closing = object()


def connect_handlers(crawler, component, *names: str) -> None:
    """Connect each of ``component``'s methods ``names`` to the signal of that name: the
    crawler's own (above), else Scrapy's (``item_scraped`` → ``scrapy.signals.item_scraped``)."""
    own = {"url_failed": url_failed, "article_unchanged": article_unchanged, "article_gone": article_gone,
           "article_back": article_back, "shared_run_closing": shared_run_closing}
    for name in names:
        crawler.signals.connect(getattr(component, name), signal=own.get(name) or getattr(scrapy_signals, name))
