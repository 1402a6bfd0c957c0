"""``scrapy diff ARTICLE``: what changed between two versions of an article.

By default the previous version against the current one; ``--from``/``--to``
pick any two by the labels ``scrapy history`` prints (``current``, ``1`` the
one before, ``2``...; ``0`` is ``current`` too), or a capture date, or a
file; ``--live`` fetches the page now, through the same
guards and proxies as a crawl, and compares it with the stored copy without
storing anything (a page it cannot fetch exits 1). Paragraphs are compared, then characters inside a changed
paragraph (Chinese) or words (elsewhere); coloured on a terminal, plain when
piped. ``--html FILE`` writes a side-by-side page.
"""

from __future__ import annotations

import sys
from pathlib import Path

import scrapy
from scrapy.commands import ScrapyCommand
from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
from scrapy.exceptions import UsageError
from scrapy.http import TextResponse

from crawler import sites
from crawler.archive.versions import pick
from crawler.commands.cli import fail
from crawler.commands.history import ArticleCommand, extraction_causes
from crawler.core import markdown
from crawler.core.failures import binary_content
from crawler.core.textclean import printable
from crawler.diff.compare import diff_articles
from crawler.diff.html import render_html
from crawler.diff.text import render_text

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


class LiveFailed(Exception):
    """The live page could not be fetched or read."""


class LiveSpider(scrapy.Spider):
    """Fetches one article now and keeps what its adapter extracts; no
    WARC, no pipelines, no state: nothing is stored."""

    name = "diff-live"
    custom_settings = {
        "ITEM_PIPELINES": {}, "WARC_ENABLED": False, "ARCHIVE_IMAGES": False, "EXTRACTION_WORKERS": 0,
        # the project's extensions give way to these: the guard's port policy and the I/O thread are kept
        "EXTENSIONS": {"crawler.extensions.state.ArchiveStateRecorder": None,
                       "crawler.extensions.summary.CrawlSummary": None,
                       "crawler.extensions.warcindex.CdxjIndex": None,
                       "crawler.extensions.guardports.GuardPorts": 130,
                       "crawler.extensions.archiveio.ArchiveIO": 100},
    }

    def __init__(self, url: str, **kwargs):
        super().__init__(**kwargs)
        self.url, self.found, self.errors = url, [], []

    async def start(self):
        yield scrapy.Request(self.url, callback=self.parse, errback=self.failed, dont_filter=True)

    def parse(self, response):
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}")
            return
        what = None if isinstance(response, TextResponse) else "not text"
        what = binary_content(response.body) or what
        if what:  # an image, a PDF at the article's address: nothing to compare
            ctype = response.headers.get("Content-Type", b"").decode("latin-1") or "no Content-Type"
            self.errors.append(f"not an HTML page: {what} ({ctype}, {len(response.body)} bytes)")
            return
        try:
            self.found.append((response.url, sites.extract(response.url, response.text)))
        except Exception as exc:  # noqa: BLE001 - said, as the crawl says a failed extraction
            self.errors.append(f"extraction failed: {type(exc).__name__}: {exc}")

    def failed(self, failure):
        self.errors.append(failure.getErrorMessage() or failure.type.__name__)


class Command(ArticleCommand, ScrapyCommand):
    # --live fetches with a crawler: its log (Scrapy's banner, settings and stats) on
    # the console only when asked for (-L INFO, --logfile)
    quiet = True

    usage = "ARTICLE [--from V] [--to V] [--live] [--html FILE]"
    summary = "Show what changed between two versions of an archived article (or the live page)"

    def add_own_options(self, parser) -> None:
        parser.add_argument("--from", dest="old", default=None, metavar="V",
                            help="older version, as `scrapy history` labels them: 1 = the one before "
                                 "current (default), 2, ...; or a capture date or a file")
        parser.add_argument("--to", dest="new", default="current", metavar="V",
                            help="newer version: current (default), 1, 2, ...; or a capture date or a file")
        parser.add_argument("--live", action="store_true",
                            help="compare the page as it is now with the current stored copy (stores nothing)")
        parser.add_argument("--html", metavar="FILE", help="also write a side-by-side HTML page")
        parser.add_argument("--context", type=int, default=1, help="unchanged paragraphs around a change")
        parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    def run(self, args, opts) -> None:
        found = self.named_article(args)
        if found is None:
            return
        archive, state, path, versions = found
        if not versions:
            self.exitcode = fail(self, f"{path}: no stored copy")
            return
        try:
            if opts.live:
                old = pick(versions, opts.old or "current")
                try:
                    new_label, new_text = self._live(old, state)
                except LiveFailed as exc:  # the network, not the command line: exit 1
                    self.exitcode = fail(self, exc)
                    return
            else:
                if len(versions) < 2 and opts.old is None:
                    print(printable(f"{path}: one version only ({versions[0].label}); nothing to compare"))
                    return
                old, new = pick(versions, opts.old or "1"), pick(versions, opts.new)
                new_label, new_text = f"{new.file} ({new.label})", new.text
        except LookupError as exc:
            raise UsageError(printable(exc), print_help=False) from None
        old_label = f"{old.file} ({old.label})"
        diff = diff_articles(old.text, new_text)
        color = opts.color == "always" or (opts.color == "auto" and sys.stdout.isatty())
        out = render_text(diff, color=color, context=opts.context, old_label=old_label, new_label=new_label)
        # render_text escapes the page's text itself (its own colours are the only escapes)
        print(out if out else printable(f"no change in the article text between {old_label} and {new_label}"),
              end="" if out else "\n")
        if not opts.live:  # a version the extraction made is no edit of the site's: said, on stderr
            causes = extraction_causes(archive, path)
            for version in versions[versions.index(old) + 1:versions.index(new) + 1]:
                if version.meta.get("warc_record_id") in causes:
                    print(printable(f"note: {version.file}: {causes[version.meta['warc_record_id']]}"),
                          file=sys.stderr)
        if opts.html:
            title = str(versions[-1].meta.get("title") or path)
            Path(opts.html).write_text(render_html(diff, old_label, new_label, title), encoding="utf-8")
            print(printable(f"side-by-side diff written to {opts.html}"), file=sys.stderr)
        self.exitcode = 0

    def _live(self, old, state) -> tuple[str, str]:
        """The live page, extracted and rendered as it would be archived."""
        meta, paragraphs = markdown.parse(old.text)
        source = state.source_url if state else paragraphs[-1].split("](", 1)[-1].rstrip(")")
        url = (state.url if state else None) or meta.get("fetched_url") or source
        # one page fetched and nothing stored: no part of a shared run, even
        # when REDIS_URL is set for the project's other commands (the runner's
        # settings are the crawler's)
        settings = self.settings.copy()
        settings.set("REDIS_URL", "", priority="cmdline")
        # started only now, so that a mistake on the command line is said
        # before Scrapy logs anything (requires_crawler_process is off)
        process = (AsyncCrawlerProcess if settings.get("TWISTED_REACTOR") == ASYNCIO_REACTOR
                   and not settings.getbool("FORCE_CRAWLER_PROCESS") else CrawlerProcess)(settings)
        crawler = process.create_crawler(LiveSpider)
        process.crawl(crawler, url=url)
        process.start()
        spider = crawler.spider
        if not spider.found:
            reason = "; ".join(spider.errors) or "no answer"
            raise LiveFailed(printable(f"live page {url} not fetched: {reason}"))
        answered, fields = spider.found[0]
        article = {**fields, "source_url": source, "url": answered}
        return f"live {answered}", markdown.render(article)
