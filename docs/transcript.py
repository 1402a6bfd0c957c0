"""Writes docs/newcomer.md: a newcomer's session as the commands print it today.

    .venv/bin/python docs/transcript.py > docs/newcomer.md

Runs the README's commands in a fresh folder laid out as the project's (seeds/ with the three qq
seeds), against the fixture web the tests use (tests/fixtures/userfolder.py: a proxy on
127.0.0.1, nothing from the internet): a first crawl, the publisher edits a headline, a refresh,
history, diff, the Hugo site and the WACZ. The folder's temporary path is shown as
~/news-archive. Each step must fit a screen (tests/test_docs.py checks 25 lines).
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fixtures.userfolder import EDITED_ID, NEW_TITLE, NEW_WORDS, OLD_TITLE, OLD_WORDS, UserFolder  # noqa: E402

SHOWN_AS = "~/news-archive"
STEPS = [
    ("A first crawl", "The seeds name three qq articles; each becomes a Markdown file, and every "
     "exchange goes into the WARC.", ".venv/bin/scrapy crawl qq"),
    ("The publisher edits an article, and a refresh finds it", None, ".venv/bin/scrapy refresh"),
    ("Its history", "Every version, newest first, labelled as `diff` takes them.",
     f".venv/bin/scrapy history {EDITED_ID}"),
    ("What changed", "Changed characters inside a changed paragraph, `[-old-]{+new+}` when piped "
     "(coloured on a terminal).", f".venv/bin/scrapy diff {EDITED_ID}"),
    ("The site", "A static Hugo site of the archive, its versions and their diffs, with a page of recent "
     "changes: it opens from disk; `scrapy hugo --serve` serves it on 127.0.0.1 (for the search box too).",
     ".venv/bin/scrapy hugo"),
    ("The WACZ", "One file of the WARCs and a page list, for ReplayWeb.page.", ".venv/bin/scrapy wacz"),
]
EDIT = (f"Between the two runs the publisher changed the headline ({OLD_TITLE} → {NEW_TITLE}) and two "
        f"characters of the first paragraph ({OLD_WORDS} → {NEW_WORDS}).")


def main() -> None:
    out = ["<!-- Written by `.venv/bin/python docs/transcript.py > docs/newcomer.md`; rerun it when the "
           "commands' output changes. -->", "", "# A newcomer's transcript", "",
           "Back to the [README](../README.md).", "",
           "What the everyday commands print, run in a folder laid out as the project's, against the "
           "fixture web the tests serve on 127.0.0.1 (the three qq seeds; see [Testing](testing.md)). "
           f"Recorded {dt.date.today().isoformat()}. The console is quiet: warnings, errors and the "
           "summary; `-v` brings back Scrapy's detail.", ""]
    with tempfile.TemporaryDirectory() as tmp, UserFolder(Path(tmp)) as user:
        for title, text, line in STEPS:
            if line.endswith(" refresh"):
                user.edit_headline()
                text = EDIT
            result = user.run(line)
            if result.returncode != 0:
                raise SystemExit(f"{line} exited {result.returncode}:\n{result.output}")
            shown = result.output.replace(str(user.folder), SHOWN_AS).rstrip("\n")
            out += [f"## {title}", ""]
            out += [text, ""] if text else []
            out += ["```", f"$ {line}", *shown.splitlines(), "```", "",
                    f"Exit status {result.returncode}.", ""]
    sys.stdout.write("\n".join(out).rstrip("\n") + "\n")


if __name__ == "__main__":
    main()
