"""What the project's commands share: their one base (``ProjectCommand``), and what they say
when a person gets something wrong.

An error about the command line is one line on stderr, ``scrapy NAME: error: …``, and exit
status 2: never Scrapy's Usage block (``-h`` shows the options). An option the command does not
have is named, with the closest one it has.
"""

from __future__ import annotations

import difflib
import re
import sys
from pathlib import Path

from scrapy.exceptions import UsageError
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.utils.log import configure_logging

from crawler.archive.lock import ArchiveUnusable, check_archive_dir

#: A negative number is a value, not an option.
NUMBER = re.compile(r"^-\d+(\.\d+)?$")
#: A long option as ``-h`` lists it: the options a close match is looked for among.
LONG_OPTION = re.compile(r"(?<![\w-])--[A-Za-z][\w-]*")


def command_name(command) -> str:
    """``refresh`` for crawler.commands.refresh.Command (Scrapy names commands by module)."""
    return type(command).__module__.rsplit(".", 1)[-1]


def one_line_errors(command, parser) -> None:
    """Call at the end of ``add_options``: argument errors (argparse's own, and every
    ``UsageError`` Scrapy hands to ``parser.error``) become one line and exit 2."""
    name = command_name(command)
    command.known_options = sorted(set(LONG_OPTION.findall(parser.format_help())))

    def error(message: str):
        sys.stderr.write(f"scrapy {name}: error: {message}\n")
        sys.stderr.flush()
        sys.exit(2)

    parser.error = error


def fail(command, message, status: int = 1) -> int:
    """A command that cannot do its work (not a mistake on its command line): one line on
    stderr, ``scrapy NAME: message``; the exit status to set."""
    sys.stderr.write(f"scrapy {command_name(command)}: {message}\n")
    sys.stderr.flush()
    return status


def reject_unknown_options(command, args: list[str]) -> None:
    """Scrapy parses known options only and leaves the rest in ``args``: an unknown one is
    named, with the close match, before it is taken for an argument."""
    for arg in args:
        if arg.startswith("-") and len(arg) > 1 and not NUMBER.match(arg):
            option = arg.split("=", 1)[0]
            close = difflib.get_close_matches(option, getattr(command, "known_options", []), n=1)
            raise UsageError(f"unknown option {option}" + (f" (did you mean {close[0]}?)" if close else
                                                           f" (`scrapy {command_name(command)} -h` lists them)"),
                             print_help=False)


def check_spider_arguments(spidercls, spargs: dict) -> None:
    """``-a NAME=VALUE`` that the spider does not take is a typo, not a setting to ignore;
    the spider's ``arguments`` (name -> meaning) are the ones it takes, and names starting
    with ``_`` are the job runner's (scrapyd passes ``_job``)."""
    known = getattr(spidercls, "arguments", None)
    if known is None:
        return
    for name in spargs:
        # names starting with "_" belong to the tools that run spiders (scrapyd's _job)
        if name not in known and not name.startswith("_"):
            close = difflib.get_close_matches(name, list(known), n=1)
            takes = ", ".join(f"{k} ({v})" for k, v in known.items()) or "none"
            raise UsageError(f"unknown spider argument {name!r} (-a {name}=…)"
                             + (f": did you mean {close[0]}?" if close else ".")
                             + f" The {spidercls.name} spider takes: {takes}", print_help=False)


def archive_relative(archive_dir, ref: str) -> str:
    """What a person names as a path their shell sees (``archive/articles/qq/X.md`` copied from
    ``ls``, an absolute path) as the archive's own path (``articles/qq/X.md``); a version file
    (``versions/qq/X/<time>.md``) names its article. Anything else is returned as it is."""
    if "://" in ref or not ref.endswith(".md"):
        return ref
    try:
        inside = Path(ref).resolve().relative_to(Path(archive_dir).resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):
        return ref
    version = re.match(r"^versions/(.+)/[^/]+\.md$", inside)
    return f"articles/{version[1]}.md" if version else inside


def add_verbose(parser) -> None:
    """``-v``: the run's detail on the terminal, as ``-L INFO``."""
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log the run's detail (settings, progress, stats), as -L INFO")


def quiet_console(command, opts) -> None:
    """Call in ``process_options``, after Scrapy's own: the console says warnings, errors and
    the summary only (CONSOLE_LOG_LEVEL). ``-v``, a level given on the command line (``-L``,
    ``-s LOG_LEVEL=``) and a log file (``--logfile``, ``LOG_FILE``) keep LOG_LEVEL's detail."""
    settings = command.settings
    level_given = settings.getpriority("LOG_LEVEL") >= SETTINGS_PRIORITIES["cmdline"]
    if getattr(opts, "verbose", False):
        if not (level_given and settings.get("LOG_LEVEL") == "DEBUG"):  # -v -L DEBUG is DEBUG
            settings.set("LOG_LEVEL", "INFO", priority="cmdline")
        return
    if level_given or settings.get("LOG_FILE"):
        return
    level = settings.get("CONSOLE_LOG_LEVEL") or "WARNING"
    settings.set("LOG_LEVEL", level, priority="cmdline")
    # the progress lines (crawler.extensions.progress) are said on stderr when INFO is not shown
    settings.set("CONSOLE_QUIET", level.upper() not in ("DEBUG", "INFO"), priority="cmdline")


def print_summary(crawler) -> None:
    """The run's summary (crawler.extensions.summary), the last thing a run prints, on stdout."""
    text = getattr(crawler, "run_summary", None)
    if text:
        sys.stderr.flush()
        print(text, flush=True)


class ProjectCommand:
    """What every project command is: run in the project; its command-line mistakes said in one
    line (exit 2), an unknown option named before anything starts; optionally an ``--archive DIR``
    option, ``-v`` and a quiet console. A command adds its own options in :meth:`add_own_options`
    and checks its arguments in :meth:`check_arguments`; it works in ``run``.

    A mixin, listed before the Scrapy command class: ``class Command(ProjectCommand,
    ScrapyCommand)`` (or Scrapy's crawl command). Scrapy takes every ``ScrapyCommand`` subclass
    in COMMANDS_MODULE for a command of its module's name, so no base of the commands is one."""

    requires_project = True
    #: ``--archive DIR``, read with :meth:`usable_archive`
    archive_option = False
    #: what ``scrapy -h`` and ``scrapy CMD -h`` say of the command: its arguments, and one line
    usage = ""
    summary = ""
    #: ``-v``/``--verbose``: the run's detail on the terminal
    verbose_option = False
    #: the console says warnings, errors and the summary only (:func:`quiet_console`)
    quiet = False

    def syntax(self) -> str:
        return self.usage or super().syntax()

    def short_desc(self) -> str:
        return self.summary or super().short_desc()

    def add_options(self, parser) -> None:
        super().add_options(parser)
        if self.archive_option:
            parser.add_argument("--archive", metavar="DIR", help="archive folder (default: ARCHIVE_DIR)")
        self.add_own_options(parser)
        if self.verbose_option:
            add_verbose(parser)
        one_line_errors(self, parser)

    def add_own_options(self, parser) -> None:
        """The command's own options (none)."""

    def process_options(self, args, opts) -> None:
        # checked here, before Scrapy starts its logging: a mistake is the one line said
        super().process_options(args, opts)
        if self.quiet:
            quiet_console(self, opts)
        reject_unknown_options(self, args)
        self.check_arguments(args, opts)

    def check_arguments(self, args, opts) -> None:
        """Raise ``UsageError`` for arguments the command does not take (any, here)."""

    def usable_archive(self, opts=None) -> str | None:
        """The archive folder (``--archive``, else ARCHIVE_DIR); None, with the reason said and
        the exit status set, when it cannot be an archive."""
        archive = getattr(opts, "archive", None) or self.settings.get("ARCHIVE_DIR")
        try:
            check_archive_dir(archive)
        except ArchiveUnusable as exc:
            self.exitcode = fail(self, exc)
            return None
        return archive


class ArchiveCommand(ProjectCommand):
    """A command on the archive folder (``--archive DIR``, else ARCHIVE_DIR) that runs no crawl
    (``hugo``, ``wacz``): the folder is checked, then logging started, then :meth:`run_on` does
    the work."""

    requires_crawler_process = False
    archive_option = True

    def run(self, args, opts) -> None:
        archive = self.usable_archive(opts)
        if archive is None:
            return
        configure_logging(self.settings)
        self.run_on(archive, args, opts)

    def run_on(self, archive: str, args, opts) -> None:
        raise NotImplementedError


class SpiderCommand(ProjectCommand):
    """A command that runs a spider through the commands' one runner (``crawl``, ``refresh``):
    ``-v``, and the console quiet but for warnings, errors and the summary."""

    verbose_option = True
    quiet = True
