"""The documentation cannot drift from what it describes (issues 22 and 25).

- The README stays short (at most 10 KB), links every page under docs/, and every relative link
  in the README and docs/ resolves (the file, and the heading an anchor names).
- docs/settings.md is crawler/settingsdoc.py's output from crawler/settings.py: every setting is
  there with its default, none that does not exist; and every setting-like name the docs write
  in backticks is a setting (the crawler's or Scrapy's) or a name this test knows is not one.
- docs/architecture.md's module map names every module under crawler/, and names none that is gone.
- Every example command in the README runs, in README order, against the fixture web on
  127.0.0.1 in a user's folder (tests/fixtures/userfolder.py), and exits 0; the web edits one
  article's headline before the first refresh, so history and diff have two versions to show.
  What cannot run here is checked for form instead: `make crawl` (its recipe is the README's
  `scrapy crawl qq`, which runs) and `make test` (the suite itself), and the cron line (its
  schedule has five fields, it runs a README command from the project folder, and that command
  itself runs here).
- docs/newcomer.md (written by docs/transcript.py) shows README commands, each step under a screenful.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from crawler import settingsdoc
from tests.fixtures.userfolder import NEW_TITLE, NEW_WORDS, UserFolder

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
SETTINGS = ROOT / "crawler" / "settings.py"
SCREENFUL = 25


def pages() -> list[Path]:
    return sorted(DOCS.glob("*.md"))


def code_blocks(text: str) -> list[tuple[str, list[str]]]:
    """(language, lines) of every fenced block; a line ending in ``\\`` is joined to the next."""
    blocks = []
    for lang, body in re.findall(r"^```(\w*)\n(.*?)^```", text, re.M | re.S):
        body = re.sub(r"\\\n\s*", " ", body)
        blocks.append((lang, body.rstrip("\n").splitlines()))
    return blocks


def links(text: str) -> list[str]:
    """Targets of Markdown links and images, without code spans and blocks."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)\)", text)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for a page's headings."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"^#{1,6} (.+)$", text, re.M)}


# --- the README and its links -------------------------------------------------------------------

def test_the_readme_is_at_most_10_kb():
    size = len(README.read_bytes())
    assert size <= 10 * 1024, f"README.md is {size} bytes: move detail into docs/"


def test_every_docs_page_is_linked_from_the_readme():
    linked = {(README.parent / target.split("#")[0]).resolve() for target in links(README.read_text("utf-8"))}
    missing = [p.name for p in pages() if p.resolve() not in linked]
    assert not missing, f"docs pages the README does not link: {missing}"


@pytest.mark.parametrize("page", [README, *pages()], ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading #{anchor} in {file.name}")
    assert not broken, f"{page.name}: {broken}"


# --- settings -------------------------------------------------------------------------------------

def test_the_settings_page_is_generated_from_settings_py():
    expected = settingsdoc.render(SETTINGS.read_text(encoding="utf-8"))
    assert (DOCS / "settings.md").read_text(encoding="utf-8") == expected, \
        "docs/settings.md is out of date: run `.venv/bin/python -m crawler.settingsdoc > docs/settings.md`"


def test_every_setting_is_documented_with_its_default_and_none_that_does_not_exist():
    source = SETTINGS.read_text(encoding="utf-8")
    page = (DOCS / "settings.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)(?:\[.*?\])? = ", page, re.M))
    defined = set(settingsdoc.settings_names(source))
    assert documented == defined, (sorted(defined - documented), sorted(documented - defined))
    import ast
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id in defined:
            written = ast.get_source_segment(source, node)
            assert written in page, f"{node.targets[0].id}: its default is not on the page as written"


# Names in backticks that look like settings but are not.
NOT_SETTINGS = {
    "RUN_FAILURE_STATS",  # the one list of stats that fail a run, in code
    "MIN_TEXT_CHARS",  # a site adapter's own text floor
    "ZH_DIR", "EN_DIR",  # placeholders in the benchmarks' command lines
    "RUN_COORDINATOR",  # set by the shared crawl's add-on only: a value in settings.py would override it
}


def test_every_setting_the_docs_name_exists():
    from scrapy.settings import default_settings

    known = set(settingsdoc.settings_names(SETTINGS.read_text(encoding="utf-8"))) | set(dir(default_settings))
    unknown = {}
    for page in [README, *pages()]:
        text = page.read_text(encoding="utf-8")
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", text, flags=re.M | re.S))
        for name in re.findall(r"(?<![\w*])([A-Z][A-Z0-9]+(?:_[A-Z0-9]+)+)(?![\w*])", " ".join(spans)):
            if name not in known and name not in NOT_SETTINGS:
                unknown.setdefault(page.name, set()).add(name)
    assert not unknown, f"setting names the docs use that no settings define: {unknown}"


# --- the module map -------------------------------------------------------------------------------

def module_map() -> str:
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    assert "## Module map" in text
    return text.split("## Module map", 1)[1].split("\n## ", 1)[0]


def test_the_module_map_names_every_module_and_no_module_that_is_gone():
    named = set(re.findall(r"`(crawler/[\w/]+(?:\.py|/))`", module_map()))
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "crawler").rglob("*.py") if p.name != "__init__.py"}
    packages = {p.parent.relative_to(ROOT).as_posix() + "/" for p in (ROOT / "crawler").rglob("__init__.py")} - {"crawler/"}
    missing = sorted((modules | packages) - named)
    gone = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing and not gone, (f"modules the module map of docs/architecture.md does not name: {missing}; "
                                      f"named there but not in the tree: {gone}")


# --- every README example runs -----------------------------------------------------------------

def readme_lines() -> tuple[list[str], list[str], list[str]]:
    """The README's example lines: (scrapy commands, make commands, cron lines)."""
    commands, make, cron = [], [], []
    for lang, lines in code_blocks(README.read_text(encoding="utf-8")):
        for line in filter(str.strip, lines):
            words = shlex.split(line, comments=True)
            if re.match(r"^([\d*/,-]+\s+){5}", line):
                cron.append(line)
            elif words and words[0] == "make":
                make.append(line)
            elif lang == "sh":
                commands.append(line)
            else:
                raise AssertionError(f"a README example the test does not know how to check: {line!r}")
    return commands, make, cron


COMMANDS, MAKE, CRON = readme_lines()


def cron_command(line: str) -> str:
    """The scrapy command of a cron line: ``cd DIR && <command> >> log 2>&1 || …``."""
    match = re.match(r"^(?:[\d*/,-]+\s+){5}cd (\S+) && (\.venv/bin/scrapy [^>|&]+?)\s*>>\s*\S+ 2>&1( \|\| .*)?$", line)
    assert match, f"not the cron form the README explains: {line!r}"
    return match.group(2)


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Every README command, in README order, then the cron line's command, in one user's folder.
    The publisher edits one headline before the first refresh."""
    results = {}
    with UserFolder(tmp_path_factory.mktemp("user")) as user:
        edited = False
        for line in COMMANDS + [cron_command(line) for line in CRON]:
            if not edited and shlex.split(line, comments=True)[1:2] == ["refresh"]:
                user.edit_headline()
                edited = True
            results[line] = user.run(line)
        results["folder"] = user.folder
    return results


def test_the_readme_has_examples_of_every_everyday_command():
    verbs = {shlex.split(line, comments=True)[1] for line in COMMANDS}
    assert {"crawl", "refresh", "history", "diff", "hugo", "wacz"} <= verbs, verbs


@pytest.mark.parametrize("line", COMMANDS + [cron_command(line) for line in CRON],
                         ids=lambda line: line.split("#")[0].strip().replace(".venv/bin/", ""))
def test_a_readme_command_runs(ran, line):
    result = ran[line]
    assert result.returncode == 0, f"{line}\n-> exit {result.returncode}\n{result.output[-3000:]}"
    assert "Traceback" not in result.output, result.output[-3000:]
    verb = result.argv[3]
    if verb == "refresh" and "--older-than" not in line:
        assert "changed:    1" in result.stdout, result.stdout  # the edit the web made
    if verb == "history":
        assert NEW_TITLE in result.stdout and "2 versions" in result.stdout, result.stdout
    if verb == "diff":  # the changed characters, marked as piped output marks them
        assert "{+" + NEW_WORDS[-2:] + "+}" in result.stdout, result.stdout
    if "--html" in line:
        assert (ran["folder"] / line.split("--html", 1)[1].split()[0]).is_file()


def test_the_make_lines_are_the_two_newcomer_commands():
    assert [line.split("#")[0].strip() for line in MAKE] == ["make crawl", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = dict(re.findall(r"^(crawl|test): \$\(STAMP\)\n\t(.+)$", makefile, re.M))
    # make crawl cannot run here (it crawls the real seeds on the web): its recipe is a README command that runs
    assert recipe["crawl"].replace("$(VENV)", ".venv") in [c.split("#")[0].strip() for c in COMMANDS]
    # make test is the layers' contracts, then the suite this test is part of
    assert recipe["test"] == "$(VENV)/bin/lint-imports"
    assert "\t$(VENV)/bin/lint-imports\n\t$(VENV)/bin/pytest\n" in makefile


def test_the_cron_line_runs_a_readme_command_from_the_project_folder():
    assert len(CRON) == 1
    command = cron_command(CRON[0])
    verbs = {shlex.split(line, comments=True)[1] for line in COMMANDS}
    assert shlex.split(command)[1] in verbs and "--older-than" in command and "--limit" in command


# --- the transcript --------------------------------------------------------------------------------

def test_the_transcript_shows_readme_commands_each_under_a_screenful():
    text = (DOCS / "newcomer.md").read_text(encoding="utf-8")
    steps = [lines for lang, lines in code_blocks(text) if lines and lines[0].startswith("$ ")]
    assert len(steps) >= 6
    readme = {" ".join(shlex.split(line, comments=True)) for line in COMMANDS}
    for lines in steps:
        assert len(lines) <= SCREENFUL, lines
        assert " ".join(shlex.split(lines[0][2:], comments=True)) in readme, lines[0]
    verbs = {shlex.split(lines[0][2:])[1] for lines in steps}
    assert {"crawl", "refresh", "history", "diff", "hugo", "wacz"} <= verbs, verbs
