"""Finding the crawl's shared objects: each is held by an extension, found
with ``crawler.get_extension(cls)`` (Scrapy's own way; a subclass an add-on
put in its place is found too).

Scrapy makes the spider first, then every extension, then the engine with
the middlewares and pipelines: an extension can be looked up once all of
them are made (at ``spider_opened``, or at first use), never from another
extension's ``__init__``.

Most of those objects cost something to make (a thread, a database, a
browser): :class:`SharedObject` is the extension that builds its one at
first use and closes it when the engine stops.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from scrapy import signals

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


class SharedObject(Generic[T]):
    """An extension holding one object of the crawl's: made by :meth:`build` at the first
    :meth:`held` (a crawl that never asks makes none), closed by :meth:`release` when the
    engine stops (after the handlers connected before that first use: what they do with
    it is done first)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self._held: T | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def build(self) -> T:
        raise NotImplementedError

    def release(self, held: T):
        """Close what :meth:`build` made (a coroutine is awaited: the engine waits for it)."""
        return held.close()

    def held(self) -> T:
        if self._held is None:
            made = self._held = self.build()
            self.crawler.signals.connect(lambda: self.release(made), signal=signals.engine_stopped, weak=False)
        return self._held
