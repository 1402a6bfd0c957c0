"""``scrapy refresh``: re-check archived articles (the cron job).

Runs the ``refresh`` spider over the articles the capture state holds,
chosen by age, site, name and count. Exit status: 0 when every article was
checked (changed and gone are outcomes, not failures), 1 when any check
failed, 75 when another run holds the archive.
"""

from __future__ import annotations

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.crawl import locked_run
from crawler.spiders.refresh import parse_age


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Re-check archived articles; keep versions of those that changed"

    def add_options(self, parser) -> None:
        super().add_options(parser)
        parser.add_argument("--older-than", metavar="AGE",
                            help="only articles last checked longer ago than AGE (30m, 6h, 1d, 2w)")
        parser.add_argument("--site", help="only this site's articles (qq, reuters, ...)")
        parser.add_argument("--article", action="append", default=[], metavar="REF",
                            help="only this article: URL, id or file (repeatable)")
        parser.add_argument("--limit", type=int, help="at most this many articles this run")

    def run(self, args, opts) -> None:
        if args:
            raise UsageError("scrapy refresh takes options only")
        try:
            parse_age(opts.older_than)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if opts.limit is not None and opts.limit < 1:
            raise UsageError(f"--limit takes a count of articles, 1 or more (not {opts.limit})")
        spargs = {"older_than": opts.older_than, "site": opts.site,
                  "article": "\n".join(opts.article), "limit": opts.limit}
        self.exitcode = locked_run(self, "refresh", {k: v for k, v in spargs.items() if v})
