"""``scrapy refresh``: re-check archived articles (the cron job).

Runs the ``refresh`` spider over the articles the capture state holds,
chosen by age, site, name and count. Exit status: 0 when every article was
checked (changed and gone are outcomes, not failures), 1 when any check
failed, 75 when another run holds the archive, 130 when Ctrl-C stopped it
(128 + the signal's number: 143 for SIGTERM); 2 for a mistake on the
command line (an unknown option or site), said in one line. The console
says warnings, errors and the summary only (``-v`` or ``-L INFO`` for more).
"""

from __future__ import annotations

from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands import runner
from crawler.commands.cli import SpiderCommand, archive_relative
from crawler.spiders.refresh import parse_age
from crawler.state.open import open_readonly


def archive_sites(root: Path) -> list[str]:
    """The sites of the archive's articles: from the state, else the folders of articles/."""
    store = open_readonly(root)
    if store is not None:
        try:
            return store.sites()
        finally:
            store.close()
    return sorted(p.name for p in (root / "articles").iterdir() if p.is_dir())


def holds_articles(root: Path) -> bool:
    return any((root / "articles").rglob("*.md"))


class Command(SpiderCommand, ScrapyCommand):
    usage = "[options]"
    summary = "Re-check archived articles; keep versions of those that changed"

    def add_own_options(self, parser) -> None:
        parser.add_argument("--older-than", metavar="AGE",
                            help="only articles last checked longer ago than AGE: 30m, 6h, 1d, 2w "
                                 "(s, m, h, d, w; a bare number is days)")
        parser.add_argument("--site", help="only this site's articles (qq, reuters, ...)")
        parser.add_argument("--article", action="append", default=[], metavar="REF",
                            help="only this article: URL, id or file (repeatable)")
        parser.add_argument("--limit", type=int, help="at most this many articles this run")

    def check_arguments(self, args, opts) -> None:
        if args:
            raise UsageError(f"scrapy refresh takes options only, not {args[0]!r}", print_help=False)
        try:
            parse_age(opts.older_than)
        except ValueError as exc:
            raise UsageError(str(exc), print_help=False) from None
        if opts.limit is not None and opts.limit < 1:
            raise UsageError(f"--limit takes a count of articles, 1 or more (not {opts.limit})", print_help=False)
        root = Path(self.settings.get("ARCHIVE_DIR"))
        if opts.site and (root / "articles").is_dir():
            sites = archive_sites(root)
            if opts.site not in sites:
                raise UsageError(f"no site {opts.site!r} in the archive; its sites: {', '.join(sites)}" if sites else
                                 f"no site {opts.site!r} in the archive: it holds no articles yet", print_help=False)

    def run(self, args, opts) -> None:
        root = Path(self.settings.get("ARCHIVE_DIR"))
        empty = (root / "articles").is_dir() and not holds_articles(root)
        spargs = {"older_than": opts.older_than, "site": opts.site,
                  "article": "\n".join(archive_relative(root, ref) for ref in opts.article), "limit": opts.limit}
        self.exitcode = runner.run(self, "refresh", {k: v for k, v in spargs.items() if v})
        if empty and self.exitcode == 0:
            print(f"the archive {root.resolve()} holds no articles yet: `scrapy crawl qq` archives the seeds "
                  "first, then refresh re-checks them", flush=True)
