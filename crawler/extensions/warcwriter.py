"""The crawl's one WARC writer, as a Scrapy extension.

The capture middleware, the metadata pipeline and the browser middleware
write into the same rotating file; they find it the way Scrapy's own
components find each other, ``crawler.get_extension(WarcWriterExtension)``
(see :func:`shared_writer`). Extensions are built before the engine, so
every downloader middleware and pipeline can look the writer up in its
``from_crawler``; the spider is built before the extensions, and would have
to wait for ``spider_opened``.

The writer's ``.open`` orphans (from a crash, a ``kill -9``) are recovered
when the first component takes the writer, not when the extension is built:
by then every extension exists, so a shared crawl's subclass can ask its
run which files other machines may still be writing (``in_use``), and a
crawler built only to read its settings touches no file.
"""

from __future__ import annotations

import asyncio
import socket

from scrapy import signals

from crawler.archive.storage import ArchiveStore
from crawler.extensions.archiveio import io_executor
from crawler.featureoff import needs_flag
from crawler.warc.recovery import recover_open_files
from crawler.warc.writer import RotatingWarcWriter, WarcWriteError

#: Settings that shape what was captured, recorded in every warcinfo record.
WARCINFO_SETTINGS = ("DOWNLOAD_DELAY", "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN",
                     "DOWNLOAD_TIMEOUT", "RETRY_TIMES", "COOKIES_ENABLED", "ARCHIVE_IMAGES",
                     "WARC_MAX_SIZE")


def warcinfo_fields(settings) -> dict:
    """The warcinfo record's fields, from the settings that matter."""
    from crawler import __version__
    try:
        from importlib.metadata import version

        scrapy_version, warcio_version = version("scrapy"), version("warcio")
    except Exception:  # pragma: no cover - metadata missing in odd installs
        scrapy_version = warcio_version = "unknown"
    return {
        "software": f"news-archive-crawler/{__version__} (Scrapy {scrapy_version}; warcio {warcio_version})",
        "format": "WARC File Format 1.0",
        "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
        "hostname": socket.gethostname(),
        "operator": settings.get("WARC_OPERATOR"),
        "description": settings.get("WARC_DESCRIPTION"),
        "isPartOf": settings.get("WARC_IS_PART_OF"),
        "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
        "http-header-user-agent": settings.get("USER_AGENT"),
        "crawl-settings": "; ".join(f"{name}={settings.get(name)}" for name in WARCINFO_SETTINGS),
    }


class WarcWriterExtension:
    """Holds the crawl's :class:`RotatingWarcWriter`, built from the settings;
    recovers the folder's orphans before the first component gets the writer;
    fsyncs on the clock under ``WARC_FSYNC = "interval"``; closes the writer
    when the spider closes."""

    def __init__(self, writer: RotatingWarcWriter, crawler=None):
        self.writer = writer
        self.crawler = crawler
        self.recovered: list[str] | None = None  # None: not yet looked

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        needs_flag(settings, "WARC_ENABLED", __name__)
        writer = RotatingWarcWriter(
            # refuses a warc/ that leads out of the archive (a symbolic link)
            ArchiveStore(settings.get("ARCHIVE_DIR")).path("warc"),
            prefix=settings.get("WARC_PREFIX"),
            max_size=settings.getint("WARC_MAX_SIZE"),
            warcinfo=warcinfo_fields(settings),
            gzip_level=settings.getint("WARC_GZIP_LEVEL", 6),
            fsync=settings.get("WARC_FSYNC", "record"),
            fsync_interval=settings.getfloat("WARC_FSYNC_INTERVAL", 1.0),
            stats=crawler.stats,
        )
        ext = cls(writer, crawler)
        syncer = _IntervalSync(writer, submit=lambda fn: io_executor(crawler).submit(fn))
        crawler.signals.connect(syncer.start, signal=signals.spider_opened, weak=False)
        crawler.signals.connect(syncer.close_after_io, signal=signals.spider_closed, weak=False)
        return ext

    #: Whether another machine may still be writing an ``.open`` file, given its
    #: name (and stat); None: one machine, whose live writers hold the flock.
    in_use = None

    def ready_writer(self) -> RotatingWarcWriter:
        """The writer, once the WARC folder's orphans have been recovered (the
        first call recovers them; a shared crawl says which files live writers
        elsewhere hold)."""
        if self.recovered is None:
            self.recovered = []
            if self.writer.directory.is_dir():
                self.recovered = recover_open_files(self.writer.directory, self.in_use)
                stats = getattr(self.crawler, "stats", None)
                if self.recovered and stats is not None:
                    stats.inc_value("warc/recovered_files", len(self.recovered))
        return self.writer


def shared_writer(crawler) -> RotatingWarcWriter:
    """The crawl's one WARC writer, for a component built after the extensions
    (a downloader middleware, a pipeline) or at ``spider_opened`` or later.

    Raises ``RuntimeError`` before the extension manager is built (Scrapy's
    own ``get_extension`` check), or when WARCs are on and the extension is
    missing from ``EXTENSIONS``.
    """
    ext = crawler.get_extension(WarcWriterExtension)
    if ext is None:
        raise RuntimeError("WARC_ENABLED is on but crawler.extensions.warcwriter.WarcWriterExtension "
                           "is not in EXTENSIONS")
    return ext.ready_writer()


class _IntervalSync:
    """Under ``WARC_FSYNC = "interval"``, syncs written records on the clock
    too, so a crawl gone quiet does not keep them unsynced; closes the writer."""

    def __init__(self, writer: RotatingWarcWriter, clock=None, submit=None):
        self.writer = writer
        self.clock = clock  # the reactor unless given (tests)
        # where the fsync runs: the archive I/O thread in a crawl, never the reactor
        self.submit = submit
        self.loop = None

    def start(self, spider=None) -> None:
        if self.writer.fsync == "interval":
            from twisted.internet import task

            self.loop = task.LoopingCall(self._tick)
            if self.clock is not None:
                self.loop.clock = self.clock
            self.loop.start(self.writer.fsync_interval, now=False)

    def _tick(self) -> None:
        if self.submit is not None:
            self.submit(self._sync)
        else:
            self._sync()

    def _sync(self) -> None:
        try:
            self.writer.sync()
        except WarcWriteError:
            pass  # logged and counted; the next write opens a new file

    def _stop_clock(self) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def close(self, spider=None) -> None:
        self._stop_clock()
        self.writer.close()

    async def close_after_io(self, spider=None) -> None:
        """``close``, the writer's part in the archive I/O thread: after every
        write handed to it before, such as the text record of a version a
        killed run left unrecorded, which the state recorder writes when a
        check finds the article gone (Scrapy does not wait for one spider_closed
        handler before it calls the next)."""
        if self.submit is None:
            self.close()
            return
        self._stop_clock()
        await asyncio.wrap_future(self.submit(self.writer.close))
