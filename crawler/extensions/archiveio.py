"""The crawl's archive I/O thread: disk writes off the reactor.

Writing a page to the archive means compressing WARC records and several
fsyncs (WARC records, the Markdown file and its folder, the state, the
change log): milliseconds each, tens of milliseconds a page on a slow disk,
during which the reactor would download nothing. They run here instead, in
one thread, in the order they were asked for (one writer at a time keeps the
archive's own ordering: a capture is on disk before the article that names
it). zlib and fsync release the GIL, so the reactor and this thread overlap.

The thread is the :class:`ArchiveIO` extension's (EXTENSIONS), shut down
when the engine stops; components reach it through :func:`io_executor` and
:func:`run_io`.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from crawler.extensions.lookup import SharedObject, extension


class ArchiveIO(SharedObject[ThreadPoolExecutor]):
    """Holds the crawl's one archive I/O thread, started at first use and
    shut down when the engine stops (after the handlers connected before
    that first use: what they write is done first)."""

    def build(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-io")

    def release(self, executor: ThreadPoolExecutor) -> None:
        executor.shutdown(wait=True)

    @property
    def executor(self) -> ThreadPoolExecutor:
        return self.held()


def io_executor(crawler) -> ThreadPoolExecutor:
    """The crawl's one archive I/O thread (the ArchiveIO extension's)."""
    return extension(crawler, ArchiveIO).executor


async def run_io(crawler, function, *args, **kwargs):
    """``function(*args, **kwargs)`` in the archive I/O thread; its result or
    its exception. Without a crawler (a component tested on its own) it
    runs in the calling thread."""
    if crawler is None:
        return function(*args, **kwargs)
    future = io_executor(crawler).submit(function, *args, **kwargs)
    return await asyncio.wrap_future(future)
