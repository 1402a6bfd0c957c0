"""Article extraction off the reactor: a pool of worker processes with a time limit.

Extraction (lxml, trafilatura) is CPU work. Run in the spider callback it
blocks the reactor, so one core idles while downloads wait, and one
pathological page stops the whole crawl. Here it runs in a pebble process
pool (``EXTRACTION_WORKERS``, default one per CPU): a page that takes longer
than ``EXTRACTION_TIMEOUT`` seconds, or kills its worker, fails alone with
that reason, and pebble replaces the worker. ``EXTRACTION_WORKERS = 0`` runs
extraction in the crawl process (no time limit), for debugging.

``extract_page`` is the one function the workers run: a pure function of
the page (URL, decoded text, raw bytes, declared charset), so a crawl's
output is the same whichever way it runs.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from scrapy import signals

from crawler import sites
from crawler.core.encoding import garbled, mislabelled_utf8, redecode
from crawler.core.markdown import plain_text

logger = logging.getLogger(__name__)


class ExtractionError(Exception):
    """A page extraction could not finish; the message says why."""


def extract_page(url: str, text: str, body: bytes, encoding: str) -> tuple[dict | None, str | None]:
    """(fields, note) for one page: the site adapter's fields, decoded as
    UTF-8 when the bytes are UTF-8 whatever the page declares, and again
    when the declared charset turns the article into replacement
    characters; fields None when the article reads in no charset. ``note``
    says what was done about the charset, for the log."""
    utf8 = mislabelled_utf8(body, encoding)
    if utf8 is not None:
        return sites.extract(url, utf8), f"declared charset {encoding} is wrong; decoded as utf-8"
    fields = sites.extract(url, text)
    if not garbled(plain_text(fields["blocks"])):
        return fields, None
    guess = redecode(body, encoding)
    if guess is not None:
        again = sites.extract(url, guess[0])
        if not garbled(plain_text(again["blocks"])):
            return again, f"declared charset {encoding} is wrong; decoded as {guess[1]}"
    # Replacement characters the author wrote survive dropping the bytes
    # that do not decode; those a wrong charset made do not.
    lenient = sites.extract(url, body.decode(encoding, "ignore"))
    return (fields, None) if garbled(plain_text(lenient["blocks"])) else (None, None)


def extract_body(url: str, body: bytes, content_type: str, encoding: str | None = None):
    """``extract_page`` of a page as received: decoded here, in the worker,
    exactly as Scrapy decodes it (the charset ``encoding`` forces, else the
    ``Content-Type`` header, the page's own declaration, its bytes). Only the
    bytes cross to the worker, and the crawl process never decodes the page.
    Returns (fields, note, the charset used)."""
    from scrapy.http import HtmlResponse

    response = HtmlResponse(url, body=body, headers={"Content-Type": content_type} if content_type else None,
                            encoding=encoding)
    fields, note = extract_page(response.url, response.text, response.body, response.encoding)
    return fields, note, response.encoding


def _noop() -> None:
    """A first task: scheduling it starts the workers."""


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class ExtractionPool:
    """Runs ``extract_body`` in worker processes; one pool per crawl."""

    def __init__(self, workers: int, timeout: float):
        self.workers = workers
        self.timeout = timeout or None
        self._pool = None
        self._started: Future | None = None  # set once start() has begun

    @classmethod
    def from_crawler(cls, crawler) -> "ExtractionPool":
        s = crawler.settings
        workers = s.getint("EXTRACTION_WORKERS", -1)
        pool = cls(default_workers() if workers < 0 else workers, s.getfloat("EXTRACTION_TIMEOUT"))
        crawler.signals.connect(pool.close, signal=signals.spider_closed)
        return pool

    def start(self) -> None:
        """Start the workers from a thread (at the first page). A worker's
        start waits for the forkserver to import and warm up the extraction
        code (seconds); on the reactor, that wait stopped every download.
        From a thread, only the first extractions wait for it. Not started
        when the spider opens: the forkserver's socket folder (``pymp-*`` in
        $TMPDIR) would then be left behind by a crawl killed before it
        extracted anything."""
        if self.workers == 0 or self._started is not None:
            return
        self._started = Future()

        def start_workers():
            try:
                self._ensure_pool().schedule(_noop)
            except BaseException as exc:  # noqa: BLE001 - the first page meets it again, with its reason
                logger.error("extraction workers could not start: %s", exc)
            self._started.set_result(None)

        threading.Thread(target=start_workers, name="extraction-start", daemon=True).start()

    def _ensure_pool(self):
        if self._pool is None:
            from pebble import ProcessPool

            # forkserver: workers never inherit the reactor's threads and
            # sockets; they fork from a server that has imported and warmed
            # up the extraction code (crawler/extraction/preload.py), sharing it
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["crawler.extraction.preload"])
            self._pool = ProcessPool(max_workers=self.workers, context=context)
        return self._pool

    async def extract_response(self, response):
        """(fields, note, charset) of a Scrapy response, decoded in the worker by its
        ``Content-Type`` (a rendered page's says UTF-8), else by what the page declares or
        its bytes; raises ExtractionError with the reason."""
        content_type = response.headers.get("Content-Type", b"").decode("latin-1")
        return await self._run(extract_body, response.url, response.body, content_type)

    async def _run(self, function, *args):
        if self.workers == 0:
            return function(*args)
        if self._started is None:
            self.start()
        if not self._started.done():
            await asyncio.wrap_future(self._started)
        from pebble import ProcessExpired

        future = self._ensure_pool().schedule(function, args=args, timeout=self.timeout)
        try:
            return await asyncio.wrap_future(future)
        except FutureTimeout:
            raise ExtractionError(f"extraction took longer than EXTRACTION_TIMEOUT ({self.timeout:g} s)") from None
        except ProcessExpired as exc:
            raise ExtractionError(f"extraction worker died ({exc})") from None
        except Exception as exc:  # an error inside the adapter, re-raised from the worker
            raise ExtractionError(f"extraction error: {type(exc).__name__}: {exc}") from exc

    def close(self, spider=None) -> None:
        if self._started is not None:
            self._started.result(timeout=120)  # a pool still starting is stopped too
        if self._pool is not None:
            self._pool.stop()
            self._pool.join(timeout=10)
            self._pool = None
