"""``scrapy wacz``: pack the archive into a WACZ for ReplayWeb.page.

Packs every closed WARC file (or only those named, with the files holding
the originals of their revisits) and a page list of the archived articles
(see crawler/exports/wacz.py). Holds the archive's lock while it reads, so
that it packs no half-finished crawl; exits 75 if another run holds it past
ARCHIVE_LOCK_TIMEOUT, 1 if no WACZ could be made.
"""

from __future__ import annotations

import sys
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.archive.lock import EXIT_LOCKED, ArchiveLocked, archive_lock
from crawler.commands.cli import ArchiveCommand
from crawler.exports.wacz import WaczError, pack_from_settings


class Command(ArchiveCommand, ScrapyCommand):
    usage = "[WARC ...] [--archive DIR] [--output FILE]"
    summary = "Pack the archive's WARCs and a page list of its articles into a WACZ (ReplayWeb.page)"

    def long_desc(self) -> str:
        return ("Pack the closed WARC files of the archive into one WACZ file, with a page list "
                "(pages/pages.jsonl) of every archived article: URL, capture time, title and text. "
                "Name WARC files to pack only those; the files holding the originals of their "
                "revisit records are added. The default output is <archive>/wacz/archive.wacz "
                "(WACZ_PATH), replaced atomically.")

    def add_own_options(self, parser) -> None:
        parser.add_argument("--output", metavar="FILE",
                            help="the WACZ to write (default: WACZ_PATH, else <archive>/wacz/archive.wacz)")

    def run_on(self, archive, args, opts) -> None:
        if not Path(archive).is_dir():
            raise UsageError(f"no archive at {archive}", print_help=False)
        try:
            with archive_lock(archive, self.settings.getfloat("ARCHIVE_LOCK_TIMEOUT")):
                result = pack_from_settings(self.settings, archive=archive, output=opts.output,
                                            warcs=args or None)
        except ArchiveLocked as exc:
            print(f"scrapy wacz: not started: {exc}", file=sys.stderr)
            self.exitcode = EXIT_LOCKED
            return
        except WaczError as exc:
            print(f"scrapy wacz: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        print(f"WACZ written: {result.path} ({result.size} bytes)")
        print(f"  WARC files: {len(result.warc_files)}")
        if result.originals_added:
            print(f"  added for the originals of revisits: {', '.join(result.originals_added)}")
        print(f"  pages:      {result.pages} (the articles, and their earlier captures)")
        if result.pages_left_out:
            print(f"  articles with no capture in it: {', '.join(result.pages_left_out)}")
        print(f"to open it: https://replayweb.page/ → Choose File → {result.path} (the file stays on "
              "this computer), or any ReplayWeb.page you serve yourself")
