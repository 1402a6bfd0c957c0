"""The crawl's archive I/O thread: disk writes off the reactor.

Writing a page to the archive means compressing WARC records and several
fsyncs (WARC records, the Markdown file and its folder, the state, the
change log): milliseconds each, tens of milliseconds a page on a slow disk,
during which the reactor would download nothing. They run here instead, in
one thread, in the order they were asked for (one writer at a time keeps the
archive's own ordering: a capture is on disk before the article that names
it). zlib and fsync release the GIL, so the reactor and this thread overlap.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from scrapy import signals


def io_executor(crawler) -> ThreadPoolExecutor:
    """The crawl's one archive I/O thread, shut down when the engine stops."""
    executor = getattr(crawler, "_archive_io", None)
    if executor is None:
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="archive-io")
        crawler._archive_io = executor
        crawler.signals.connect(lambda: executor.shutdown(wait=True), signal=signals.engine_stopped, weak=False)
    return executor


async def run_io(crawler, function, *args, **kwargs):
    """``function(*args, **kwargs)`` in the archive I/O thread; its result or
    its exception. Without a crawler (a component tested on its own) it
    runs in the calling thread."""
    if crawler is None:
        return function(*args, **kwargs)
    future = io_executor(crawler).submit(function, *args, **kwargs)
    return await asyncio.wrap_future(future)
