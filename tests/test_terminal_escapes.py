"""``scrapy history`` and ``scrapy diff`` print what pages wrote: escaped, so a
hostile page cannot send escape sequences to the operator's terminal. The
archive here is written by hand, as an earlier version of the crawler (which
kept control characters) would have left it. No network."""

from __future__ import annotations

import re

from crawler.core.textclean import printable
from crawler.diff.compare import diff_articles
from crawler.diff.text import render_text
from tests.conftest import run_scrapy

#: As the crawler's YAML dumper writes control characters: escaped in a
#: double-quoted string (ESC ] 0 ; sets the terminal's title, BEL ends it).
ESC_TITLE = r"Title \e]0;owned\a \e[2J\x9b31m"


def _copy(paragraph: str) -> str:
    return (f'---\ntitle: "{ESC_TITLE}"\ndate: "2025-03-25 08:30:00"\ncategories:\n  - "example"\n---\n\n'
            f"First paragraph stays.\n\n{paragraph}\n\n[example](https://news.example.com/story.html)\n")


OLD = _copy("The council met on Tuesday \x1b[31mred\x1b[0m.")
NEW = _copy("The council met on Wednesday \x1b]8;;http://evil.example/\x07link\x1b]8;;\x07.")
#: The colours render_text paints with; nothing else may start with ESC.
OWN_SGR = re.compile(r"\x1b\[(?:0|1|36|31|32|1;7;31|1;7;32)m")


def _archive(tmp_path):
    articles = tmp_path / "articles" / "example"
    articles.mkdir(parents=True)
    (articles / "story.md").write_text(NEW, encoding="utf-8")
    versions = tmp_path / "versions" / "example" / "story"
    versions.mkdir(parents=True)
    (versions / "20250101T000000Z.md").write_text(OLD, encoding="utf-8")
    return tmp_path


def _no_raw_controls(out: str) -> None:
    for ch in ("\x1b", "\x07", "\x9b"):
        assert ch not in out


def test_printable_shows_controls_as_escapes():
    assert printable("a\x1b[31mb\x07\x9b\u202ec\td\n") == "a\\x1b[31mb\\x07\\x9b\\u202ec\td\n"


def test_plain_diff_carries_no_control_character():
    out = render_text(diff_articles(OLD, NEW), color=False, old_label="old\x1b[2J", new_label="new")
    _no_raw_controls(out)
    assert "\\x1b" in out and "Wednesday" in out


def test_coloured_diff_carries_only_its_own_colours():
    out = render_text(diff_articles(OLD, NEW), color=True)
    _no_raw_controls(OWN_SGR.sub("", out))


def test_history_and_diff_commands_escape_what_they_print(tmp_path):
    archive = _archive(tmp_path)
    history = run_scrapy(["history", "articles/example/story.md"], archive, None)
    assert history.returncode == 0, history.log
    assert "Title \\x1b]0;owned\\x07" in history.log
    _no_raw_controls(history.log)
    diff = run_scrapy(["diff", "articles/example/story.md", "--color", "never"], archive, None)
    assert diff.returncode == 0, diff.log
    assert "Wednesday" in diff.log
    _no_raw_controls(diff.log)
