"""``scrapy hugo``: build the archive as a static Hugo site.

Generates what Hugo needs besides the articles under ``<archive>/site/`` and
runs ``hugo`` (see crawler/exports/hugo.py). Hugo's warnings are shown;
its build table only with ``-v``, as the other commands keep their detail
for ``-v``. A missing or failing ``hugo`` exits 1.
"""

from __future__ import annotations

import sys

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.commands.cli import ArchiveCommand
from crawler.exports.hugo import HugoError, HugoSite


class Command(ArchiveCommand, ScrapyCommand):
    verbose_option = True  # -v: Hugo's build table and the INFO lines
    quiet = True

    usage = "[--archive DIR] [--output DIR] [--base-url URL] [--serve [PORT]]"
    summary = "Build the archive as a static Hugo site, with each article's versions and diffs"

    def add_own_options(self, parser) -> None:
        parser.add_argument("--output", metavar="DIR",
                            help="where the site is written (default: HUGO_OUTPUT_DIR, else <archive>/site/public)")
        parser.add_argument("--base-url", metavar="URL", dest="base_url",
                            help="root URL the site is served from (default: HUGO_BASE_URL)")
        parser.add_argument("--serve", metavar="PORT", nargs="?", const=1313, type=int,
                            help="then serve the built site on http://127.0.0.1:PORT/ (1313) until Ctrl-C")

    def check_arguments(self, args, opts) -> None:
        if args:
            raise UsageError("`scrapy hugo` takes options only", print_help=False)

    def run_on(self, archive, args, opts) -> None:
        site = HugoSite.from_settings(self.settings, archive=opts.archive, output=opts.output,
                                      base_url=opts.base_url)
        try:
            result = site.run()
        except HugoError as exc:
            print(f"scrapy hugo: {exc}", file=sys.stderr)
            self.exitcode = 1
            return
        if opts.verbose:
            sys.stdout.write(result.stdout)
            sys.stderr.write(result.stderr)
        for line in result.warnings:
            if not opts.verbose or (line not in result.stderr and line not in result.stdout):
                print(line if line.lstrip().startswith(("WARN", "ERROR")) else f"WARN {line}", file=sys.stderr)
        print(f"site built in {result.public}")
        if opts.serve is None:
            if site.relative:
                print(f"to view it: open {result.public / 'index.html'} in a browser (search needs "
                      "`scrapy hugo --serve`, http://127.0.0.1:1313/)")
            else:
                print(f"to view it: serve that folder at {site.base_url} (or `scrapy hugo --serve` to look first)")
            return
        serve(result.public, opts.serve)


def serve(folder, port: int) -> None:
    """The built site over HTTP on 127.0.0.1 (the standard library's server), until Ctrl-C."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"serving the site on http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
