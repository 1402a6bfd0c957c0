"""The commands a newcomer meets (issue 25): mistakes get one clear line, never a traceback or a
Usage block; a run that cannot start leaves nothing behind; history, diff and the README number
versions the same way.

Every test runs the real ``scrapy`` command as a subprocess. Nothing reaches the web: every
request goes to a proxy on a closed 127.0.0.1 port, and the default seed folder is an empty one.
The archive is made by hand in the crawler's own layout (an article and one earlier version).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SEEDS
from tests.fixtures.server import free_port

ARTICLE_ID = "20250213A06E5300"
ARTICLE = f"articles/qq/{ARTICLE_ID}.md"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")


def scrapy(args: list[str], archive, tmp_path: Path, cwd: Path = ROOT, env_extra: dict | None = None,
           timeout: int = 120) -> subprocess.CompletedProcess:
    """``scrapy ARGS -s ARCHIVE_DIR=archive``, from ``cwd`` (the project is on PYTHONPATH, as for a
    user in their own folder), every request through a proxy that is not there."""
    empty_seeds = tmp_path / "default-seeds"
    empty_seeds.mkdir(exist_ok=True)
    dead = f"http://127.0.0.1:{free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(http_proxy=dead, https_proxy=dead, SCRAPY_SETTINGS_MODULE="crawler.settings",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    env.update(env_extra or {})
    cmd = [sys.executable, "-m", "scrapy", *args, "-s", f"ARCHIVE_DIR={archive}", "-s", f"SEEDS_DIR={empty_seeds}",
           "-s", "RETRY_TIMES=0", "-s", "DOWNLOAD_TIMEOUT=10", "-s", "ARCHIVE_LOCK_TIMEOUT=1"]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def said(proc) -> list[str]:
    """What the command printed for a person: its lines, without Scrapy's log records (a
    timestamped line and its indented, list- or dict-shaped continuation)."""
    lines = (proc.stdout + proc.stderr).splitlines()
    return [line for line in lines if line.strip() and not LOG_LINE.match(line)
            and not line.startswith((" ", "\t", "{", "}", "[", "]"))]


def one_line(proc, status: int) -> str:
    """The one line a failing command says; its exit status and the absence of noise checked."""
    out = proc.stdout + proc.stderr
    assert proc.returncode == status, out[-3000:]
    assert "Traceback" not in out and not re.search(r"^(Usage|=====)$", out, re.M), out[-3000:]
    lines = said(proc)
    assert len(lines) == 1, lines
    if status == 2:  # a mistake on the command line is said before Scrapy logs anything
        assert out.strip().splitlines() == lines, out[-3000:]
    return lines[0]


@pytest.fixture
def archive(tmp_path) -> Path:
    """An archive holding one qq article in two versions: current and one earlier."""
    root = tmp_path / "archive"
    text = (SEEDS / "000_916c35625ed2f8d3.txt").read_text(encoding="utf-8")
    head, body = text.split("\n---\n", 1)
    current = f'{head}\nfetched_url: "https://new.qq.com/rain/a/{ARTICLE_ID}"\nwarc_date: "2026-11-20T10:00:00Z"\n---\n{body}'
    assert "两位科技富豪" in current
    earlier = current.replace("2026-11-20T10:00:00Z", "2026-11-01T10:00:00Z").replace("两位科技富豪", "三位科技富豪")
    (root / "articles/qq").mkdir(parents=True)
    (root / ARTICLE).write_text(current, encoding="utf-8")
    (root / f"versions/qq/{ARTICLE_ID}").mkdir(parents=True)
    (root / f"versions/qq/{ARTICLE_ID}/20261101T100000Z.md").write_text(earlier, encoding="utf-8")
    return root


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- 1. a seed folder that does not exist -----------------------------------------------------

def test_a_seed_folder_that_does_not_exist_is_one_line_and_creates_nothing(tmp_path):
    archive = tmp_path / "new-archive"
    missing = tmp_path / "no-such-seeds"
    result = scrapy(["crawl", "qq", "-a", f"seeds={missing}"], archive, tmp_path)
    line = one_line(result, 2)
    assert line == f"scrapy crawl: error: seed folder not found: {missing} (-a seeds=DIR, or SEEDS_DIR)", line
    assert "Task exception" not in result.stderr and "Crawler.stats" not in result.stderr
    assert not archive.exists()


# --- 2. arguments and options that do not exist -----------------------------------------------

def test_an_unknown_spider_argument_is_an_error_naming_the_known_ones(tmp_path):
    archive = tmp_path / "new-archive"
    result = scrapy(["crawl", "qq", "-a", "seed=/x"], archive, tmp_path)
    line = one_line(result, 2)
    assert "unknown spider argument 'seed'" in line and "seeds" in line, line
    assert not archive.exists()


def test_an_unknown_refresh_option_is_named_with_the_close_match(archive, tmp_path):
    before = files(archive)
    result = scrapy(["refresh", "--older-then", "6h"], archive, tmp_path)
    line = one_line(result, 2)
    assert "unknown option --older-then" in line and "did you mean --older-than?" in line, line
    assert files(archive) == before


def test_refresh_of_a_site_the_archive_does_not_have_says_so(archive, tmp_path):
    before = files(archive)
    result = scrapy(["refresh", "--site", "qqq"], archive, tmp_path)
    line = one_line(result, 2)
    assert "no site 'qqq' in the archive" in line and "its sites: qq" in line, line
    assert files(archive) == before
    # once the archive has its state, the sites come from it
    known = scrapy(["refresh", "--site", "qq"], archive, tmp_path)  # through the dead proxy: a failed check
    assert known.returncode == 1 and "checked:    1 of 1 due" in known.stdout, known.stdout[-3000:]
    assert (archive / "state.sqlite3").exists()
    again = scrapy(["refresh", "--site", "qqq"], archive, tmp_path)
    assert one_line(again, 2) == line


def test_refresh_help_says_a_bare_age_is_days(tmp_path):
    result = scrapy(["refresh", "-h"], tmp_path / "archive", tmp_path)
    assert result.returncode == 0
    assert "a bare number is days" in " ".join(result.stdout.split()), result.stdout


def test_refresh_of_an_empty_archive_hints_to_crawl_first(tmp_path):
    archive = tmp_path / "archive"
    (archive / "articles").mkdir(parents=True)
    result = scrapy(["refresh"], archive, tmp_path)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "checked:    0 of 0 due" in result.stdout  # the summary, printed last
    hint = [line for line in said(result) if "no articles yet" in line]
    assert hint and "scrapy crawl qq" in hint[0], said(result)


# --- 7. the lock's owner after the run --------------------------------------------------------------

def test_the_lock_owner_file_names_no_process_once_the_run_is_over(archive, tmp_path):
    result = scrapy(["refresh"], archive, tmp_path)  # through the dead proxy: a failed check, exit 1
    assert result.returncode == 1, (result.stdout + result.stderr)[-3000:]
    assert "refresh summary" in result.stdout
    assert (archive / ".lock").exists() and not (archive / ".lock.owner").exists()


# --- 3. ARCHIVE_DIR that is a file --------------------------------------------------------------

@pytest.mark.parametrize("args", [["crawl", "qq"], ["refresh"], ["history", ARTICLE_ID], ["diff", ARTICLE_ID],
                                  ["hugo"], ["wacz"]], ids=lambda a: a[0])
def test_an_archive_dir_that_is_a_file_is_said_by_every_command(args, tmp_path):
    not_a_folder = tmp_path / "archive"
    not_a_folder.write_text("oops")
    result = scrapy(args, not_a_folder, tmp_path)
    line = one_line(result, 1)
    assert f"archive {not_a_folder} is a file, not a folder (check ARCHIVE_DIR)" in line, line
    assert not_a_folder.read_text() == "oops"


# --- 4. diff --live when the network fails -------------------------------------------------------

def test_diff_live_through_an_unreachable_proxy_is_a_failure_not_a_usage_error(archive, tmp_path):
    before = files(archive)
    result = scrapy(["diff", ARTICLE_ID, "--live"], archive, tmp_path)
    line = one_line(result, 1)
    assert line.startswith(f"scrapy diff: live page https://new.qq.com/rain/a/{ARTICLE_ID} not fetched:"), line
    assert files(archive) == before


def test_an_argument_error_is_one_line(archive, tmp_path):
    line = one_line(scrapy(["history"], archive, tmp_path), 2)
    assert line.startswith("scrapy history: error: give one article"), line
    line = one_line(scrapy(["diff", ARTICLE_ID, "--context", "x"], archive, tmp_path), 2)
    assert line.startswith("scrapy diff: error:") and "--context" in line, line


# --- 5. one numbering of versions ------------------------------------------------------------------

def test_history_labels_are_what_diff_takes(archive, tmp_path):
    history = scrapy(["history", ARTICLE_ID], archive, tmp_path)
    assert history.returncode == 0, history.stderr[-3000:]
    labels = [line.split()[0] for line in history.stdout.splitlines() if line.startswith("  ") and "bytes" in line]
    assert labels == ["current", "1"], history.stdout
    diff = scrapy(["diff", ARTICLE_ID, "--from", "1", "--to", "current"], archive, tmp_path)
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert "[-三-]{+两+}" in diff.stdout
    assert scrapy(["diff", ARTICLE_ID], archive, tmp_path).stdout == diff.stdout  # the default pair
    line = one_line(scrapy(["diff", ARTICLE_ID, "--from", "2"], archive, tmp_path), 2)
    assert "no version 2: the article has 2 versions (current and 1" in line, line


def test_the_readme_diff_example_works(archive, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = next(line for line in readme.splitlines() if re.search(r"scrapy diff \S+ --from", line))
    args = shlex.split(example.split("#")[0])[1:]  # without .venv/bin/scrapy
    if "--html" in args:  # written where the test says, not into the project
        args[args.index("--html") + 1] = str(tmp_path / "diff.html")
    assert args[1] == ARTICLE_ID, example
    result = scrapy(args, archive, tmp_path)
    assert result.returncode == 0, (example, result.stdout + result.stderr)
    assert "[-三-]{+两+}" in result.stdout


# --- 6. the path a user copies from ls --------------------------------------------------------------

def test_history_and_diff_take_the_path_as_ls_shows_it(archive, tmp_path):
    rel = f"archive/{ARTICLE}"  # from the archive's parent folder, ARCHIVE_DIR=archive
    history = scrapy(["history", rel], "archive", tmp_path, cwd=tmp_path)
    assert history.returncode == 0, history.stdout + history.stderr
    assert history.stdout.splitlines()[1].startswith(ARTICLE), history.stdout
    absolute = scrapy(["history", str(archive / ARTICLE)], archive, tmp_path)
    assert absolute.stdout == history.stdout
    diff = scrapy(["diff", rel], "archive", tmp_path, cwd=tmp_path)
    assert diff.returncode == 0 and "[-三-]{+两+}" in diff.stdout, diff.stdout + diff.stderr


def test_a_job_runners_own_arguments_are_not_refused():
    """scrapyd passes ``-a _job=…`` to every spider it runs."""
    from crawler.commands.cli import check_spider_arguments
    from crawler.spiders.qq import QqSpider

    check_spider_arguments(QqSpider, {"_job": "0f3c", "seeds": "seeds"})
