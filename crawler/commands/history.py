"""``scrapy history ARTICLE``: every version of an article, newest first.

ARTICLE is a URL (any spelling), a site id (``20250213A06E5300``) or a file
(``articles/qq/X.md``, or the path as ``ls`` shows it: ``archive/articles/qq/X.md``).
Versions are labelled as ``diff --from/--to`` takes them: ``current``, then
``1`` for the one before it, ``2``... Each is shown with its capture date, its
size and what changed from the version before it; then the article's state
(ok / gone / failing, last checked).
"""

from __future__ import annotations

import glob

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

from crawler.archive.changelog import ChangeLog
from crawler.archive.storage import ArchiveStore
from crawler.archive.versions import article_versions, labels
from crawler.commands.cli import ProjectCommand, archive_relative
from crawler.core.textclean import printable
from crawler.diff.compare import diff_articles
from crawler.diff.describe import CAUSE_NOTES, describe_diff
from crawler.state.open import find, open_readonly


def resolve(archive_dir, ref: str):
    """(archive store, state or None, article file) for what a person names."""
    archive = ArchiveStore(archive_dir)
    ref = archive_relative(archive.root, ref)
    store = open_readonly(archive.root)  # a crawl may be running: read, never rebuild
    state = None
    if store is not None:
        try:
            state = find(store, ref)
        finally:
            store.close()
    if state is not None:
        return archive, state, state.path
    for candidate in (ref, f"articles/{ref}", f"articles/{ref}.md"):
        try:
            if archive.exists(candidate) and candidate.endswith(".md"):
                return archive, None, archive.path(candidate).relative_to(archive.root).as_posix()
        except ValueError:
            continue
    # no state to ask (a read-only or damaged one): a site id is a file name
    named = list(archive.path("articles").glob(f"*/{glob.escape(ref)}.md")) \
        if "/" not in ref and archive.exists("articles") else []
    if len(named) == 1:
        return archive, None, named[0].relative_to(archive.root).as_posix()
    raise UsageError(f"no archived article matches {ref!r} (give its URL, id or file)", print_help=False)


def extraction_causes(archive: ArchiveStore, path: str) -> dict[str, str]:
    """The note of each version of ``path`` that the extraction made, in
    whole or in part, by its capture's record id (the change log's events)."""
    try:
        events = ChangeLog(archive).events()
        return {e["record_id"]: CAUSE_NOTES[e["cause"]] for e in events
                if e.get("article") == path and e.get("cause") in CAUSE_NOTES and e.get("record_id")}
    except (OSError, ValueError):  # no change log, or a damaged one: the diffs still say what changed
        return {}


class ArticleCommand(ProjectCommand):
    """A command on the one article named on its command line (``history``, ``diff``); a
    mixin, as ProjectCommand is."""

    requires_crawler_process = False

    def check_arguments(self, args, opts) -> None:
        if len(args) != 1:
            raise UsageError("give one article: its URL, id or file", print_help=False)

    def named_article(self, args):
        """The article named, as :func:`resolve` gives it, and its versions (oldest first):
        (archive store, state or None, article file, versions); None (the exit status set,
        the reason said) when ARCHIVE_DIR cannot be an archive."""
        archive_dir = self.usable_archive()
        if archive_dir is None:
            return None
        archive, state, path = resolve(archive_dir, args[0])
        return archive, state, path, article_versions(archive, path)


class Command(ArticleCommand, ScrapyCommand):
    usage = "ARTICLE"
    summary = "List every version of an archived article, newest first"

    def run(self, args, opts) -> None:
        found = self.named_article(args)
        if found is None:
            return
        archive, state, path, versions = found
        named = labels(versions)
        causes = extraction_causes(archive, path)
        title = versions[-1].meta.get("title") if versions else ""
        # titles, URLs and errors come from pages: escaped, never sent to the terminal raw
        print(printable(f"{title}\n{path}" + (f"  ({state.source_url})" if state else "")))
        if state:
            since = f" since {state.status_since}" if state.status != "ok" and state.status_since else ""
            print(printable(f"status: {state.status}{since}; last checked {state.last_checked or 'never'}"
                            + (f"; last error: {state.last_error}" if state.last_error and state.status != "ok" else "")))
        print(f"{len(versions)} version{'s' if len(versions) != 1 else ''}, newest first:")
        for index in range(len(versions) - 1, -1, -1):
            version = versions[index]
            size = len(version.text.encode("utf-8"))
            if index == 0:
                change = "first capture"
            else:
                try:
                    change = describe_diff(diff_articles(versions[index - 1].text, version.text))
                except Exception as exc:  # a damaged copy
                    change = f"cannot compare ({exc})"
                if version.meta.get("warc_record_id") in causes:
                    change += f"; {causes[version.meta['warc_record_id']]}"
            mark = f"{named[len(versions) - 1 - index]:>7}"
            print(printable(f"  {mark}  {version.label:<20}  {size:>8,} bytes  {version.file}\n"
                            f"           {change}"))
