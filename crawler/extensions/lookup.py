"""Finding the crawl's shared objects: each is held by an extension, found
with ``crawler.get_extension(cls)`` (Scrapy's own way; a subclass an add-on
put in its place is found too).

Scrapy makes the spider first, then every extension, then the engine with
the middlewares and pipelines: an extension can be looked up once all of
them are made (at ``spider_opened``, or at first use), never from another
extension's ``__init__``.
"""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def extension(crawler, cls: type[T]) -> T:
    """The crawl's ``cls`` extension; an error naming what is missing when
    ``cls`` is not enabled in EXTENSIONS or the extensions are not made yet."""
    try:
        found = crawler.get_extension(cls)
    except RuntimeError:
        raise RuntimeError(f"{cls.__name__} looked up before the extensions were made "
                           "(look it up at spider_opened or at first use)") from None
    if found is None:
        raise LookupError(f"{cls.__module__}.{cls.__qualname__} is not enabled in EXTENSIONS")
    return found
