"""The archive as a static Hugo site: what Hugo needs besides the articles, then the build.

``archive/articles/`` is Hugo content as it is: it is mounted, never copied
or rewritten. Everything else Hugo reads is generated under ``<archive>/site/``
through the archive store: ``config.json`` (the shipped template plus the
mounts), ``data/archive.json`` (per article: its capture in a replay tool and
its older versions), ``data/changes.json`` with ``pages/changes.md`` (the
recent-changes page, newest change first) and ``static/diffs/`` (one
side-by-side diff per older version, against the version that replaced it).
Hugo runs with that folder as its source, so its lock file, ``resources/`` and
cache stay in the archive and out of the repository's ``hugo/`` folder.

With the default base URL (``/``) the site is built with relative links
(Hugo's ``relativeURLs``) and every link to a folder names its
``index.html``, so it also works opened from disk (``file://``), where no
server adds ``index.html``; only the search needs a web server. With a base
URL of a real address, links start at that address.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import mimetypes
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crawler.archive.storage import ArchiveStore
from crawler.archive.versions import article_versions
from crawler.core import markdown
from crawler.core.timefmt import display, iso_utc, parse_iso, stamp_time, timestamp14
from crawler.diff.compare import diff_articles
from crawler.diff.describe import describe_diff
from crawler.diff.html import render_html
from crawler.warc.lookup import latest_payload

logger = logging.getLogger(__name__)

#: The shipped site: config template, layouts and style sheet.
SHIPPED_SITE = Path(__file__).resolve().parents[2] / "hugo"
#: Hugo's working folder inside the archive.
SITE_DIR = "site"


#: The recent-changes page's content file (under site/, mounted as content) and its layout.
CHANGES_PAGE = "pages/changes.md"
CHANGES_FRONT_MATTER = {"title": "Recent changes", "layout": "changes", "url": "/changes/",
                        "_build": {"list": "never"}}  # a page of the site, not an article in its lists
#: A relative link to a folder (``../qq/ID/``): from disk it must name its index.html.
FOLDER_LINK = re.compile(r'(\b(?:href|src)=")([^"#?:]*/)([#?][^"]*)?"')

#: An image paragraph of the seed format: ``![图片](https://…)``.


class HugoError(RuntimeError):
    """Hugo is missing, the site cannot be prepared, or the build failed."""


@dataclass
class BuildResult:
    public: Path
    stdout: str
    stderr: str
    #: Hugo's own WARN lines, then articles whose date Hugo could not read.
    warnings: list[str] = field(default_factory=list)


def replay_link(template: str, meta: dict) -> str | None:
    """The capture of ``meta``'s article in a replay tool, or None without a template,
    a ``fetched_url`` or a readable ``warc_date``."""
    url, date = meta.get("fetched_url"), meta.get("warc_date")
    if not (template and url and date):
        return None
    try:
        return template.format(timestamp=timestamp14(date), url=url)
    except (ValueError, OverflowError):
        return None


def capture_label(meta: dict, stamp: str | None = None) -> str:
    """When a copy was captured: its ``warc_date``; else, for a version, before
    the time its file name gives (when it was replaced)."""
    date = meta.get("warc_date")
    if date:
        try:
            return display(parse_iso(date))
        except (ValueError, OverflowError):
            pass
    if stamp is None:
        return "date unknown"
    when = stamp_time(stamp)  # the names the Markdown pipeline gives (crawler.core.timefmt)
    return "before " + display(when) if when else f"before {stamp}"


def change_time(meta: dict, stamp: str | None) -> str:
    """When a change was seen, as sortable UTC text (``iso_utc``): the new copy's
    ``warc_date``, else the time the replaced copy's file name gives."""
    when = None
    try:
        date = meta.get("warc_date")
        when = parse_iso(date) if date else None
    except (ValueError, OverflowError):
        pass
    when = when or (stamp_time(stamp) if stamp else None)
    return iso_utc(when) if when is not None else ""


def recent_changes(data: dict) -> list[dict]:
    """Every change of every article (``data/archive.json``'s entries), newest first:
    the recent-changes page's rows."""
    rows = [{"title": entry["title"], "page": entry["page"], "at": version["changed_at"],
             "changed": version["changed"], "summary": version["summary"], "diff": version["diff"]}
            for entry in data.values() for version in entry["versions"]]
    return sorted(rows, key=lambda row: (row["at"], row["page"]), reverse=True)


def name_index_files(public: Path) -> None:
    """Every relative link to a folder in the built pages names its ``index.html``
    (``../qq/ID/`` -> ``../qq/ID/index.html``): opened from disk, a folder is a listing."""
    for page in public.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        linked = FOLDER_LINK.sub(lambda m: f'{m[1]}{m[2]}index.html{m[3] or ""}"', text)
        if linked != text:
            page.write_text(linked, encoding="utf-8")


def _markdown_files(folder: Path, pattern: str = "**/*.md") -> list[Path]:
    """The ``.md`` files of a folder (tree), without the store's hidden temporary files."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and not p.name.startswith("."))


class HugoSite:
    """Generates ``<archive>/site/`` and builds the public site from it with Hugo."""

    def __init__(self, archive, *, source=None, output=None, base_url: str = "/",
                 replay_url: str = "", hugo_bin: str = "hugo", search: bool = True):
        self.store = ArchiveStore(archive)
        self.archive = self.store.root
        self.site = self.store.path(SITE_DIR)
        self.source = Path(source or SHIPPED_SITE).resolve()
        self.public = Path(output).resolve() if output else self.site / "public"
        self.base_url = base_url or "/"
        self.replay_url = replay_url or ""
        self.hugo_bin = hugo_bin or "hugo"
        self.search = search

    @classmethod
    def from_settings(cls, settings, archive=None, output=None, base_url=None):
        """From the HUGO_* settings; the command's options take precedence."""
        return cls(
            archive or settings.get("ARCHIVE_DIR"),
            source=settings.get("HUGO_SOURCE_DIR") or None,
            output=output or settings.get("HUGO_OUTPUT_DIR") or None,
            base_url=base_url or settings.get("HUGO_BASE_URL"),
            replay_url=settings.get("HUGO_REPLAY_URL"),
            hugo_bin=settings.get("HUGO_BIN"),
            search=settings.getbool("HUGO_SEARCH", True),
        )

    # --- generation -------------------------------------------------------

    def generate(self) -> dict:
        """Write config.json, data/archive.json and the diff pages; return the data."""
        articles = self.archive / "articles"
        if not _markdown_files(articles):
            raise HugoError(f"no articles in {articles}: crawl first (scrapy crawl qq)")
        template = self.source / "config.yaml"
        if not template.is_file() or not (self.source / "layouts").is_dir():
            raise HugoError(f"no Hugo site at {self.source} (config.yaml and layouts/): set HUGO_SOURCE_DIR")
        images = self._archived_images(articles)
        data = {}
        for path in _markdown_files(articles):
            rel = path.relative_to(articles).as_posix()  # what Hugo calls .File.Path
            data[rel] = self._article_entry(rel, images)
        self.store.write_text(f"{SITE_DIR}/data/archive.json",
                              json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True))
        self.store.write_text(f"{SITE_DIR}/data/changes.json",
                              json.dumps(recent_changes(data), ensure_ascii=False, indent=1))
        self.store.write_text(f"{SITE_DIR}/{CHANGES_PAGE}",
                              "---\n" + json.dumps(CHANGES_FRONT_MATTER, ensure_ascii=False) + "\n---\n")
        self.store.write_text(f"{SITE_DIR}/data/images.json",
                              json.dumps(images, ensure_ascii=False, indent=1, sort_keys=True))
        self.store.path(f"{SITE_DIR}/static").mkdir(parents=True, exist_ok=True)
        self.store.write_text(f"{SITE_DIR}/config.json", json.dumps(self._config(template), ensure_ascii=False, indent=1))
        return data

    def _archived_images(self, articles: Path) -> dict[str, str]:
        """Each image the articles and their versions show (body images and covers), copied from
        the WARC into the site once per payload (``static/archived/<digest>.<ext>``):
        original URL -> the copy's path in the site. The render hook
        (``layouts/_default/_markup/render-image.html``) and the thumbnails
        show the copy; an image never captured keeps its URL, marked."""
        urls = set()
        for path in _markdown_files(articles) + _markdown_files(self.archive / "versions"):
            meta, paragraphs = markdown.parse_or_empty(path.read_text(encoding="utf-8", errors="replace"), path)
            urls.update(m["url"] for p in paragraphs if (m := markdown.IMAGE_LINE.match(p.strip())))
            if isinstance(meta.get("thumbnail"), str) and meta["thumbnail"]:
                urls.add(meta["thumbnail"])
        copies = {}
        for url in sorted(urls):
            found = latest_payload(self.archive, url)
            if found is None:
                continue
            body, content_type, digest = found
            ext = mimetypes.guess_extension(content_type.split(";")[0].strip()) or ".bin"
            name = f"archived/{hashlib.sha256(body).hexdigest()[:20]}{ext}"
            if not self.store.exists(f"{SITE_DIR}/static/{name}"):
                self.store.write_bytes(f"{SITE_DIR}/static/{name}", body)
            copies[url] = name
        logger.info("images from the archive: %d of %d shown from their captures", len(copies), len(urls))
        return copies

    def _article_entry(self, rel: str, images: dict) -> dict:
        """An article's replay link, and its older versions oldest first, each
        with its diff against the next one (the last against the current copy):
        the changes with a paragraph around them, images from the archive, a
        link back to the article, and the change counts for the timeline."""
        stem = rel[: -len(".md")]
        up = "../" * (stem.count("/") + 2)  # from diffs/<stem>/ to the site's root
        shown = {url: up + copy for url, copy in images.items()}
        back = ("the article and its versions", f"{up}{urllib.parse.quote(stem)}/")
        copies = article_versions(self.store, f"articles/{rel}")
        versions = []
        for copy, successor in zip(copies, copies[1:]):
            stamp = Path(copy.file).stem
            old_label = capture_label(copy.meta, stamp)
            new_label = capture_label(successor.meta, None if successor.current else Path(successor.file).stem)
            title = successor.meta.get("title") or copy.meta.get("title") or stem
            link = f"diffs/{stem}/{stamp}.html"
            counts = summary = None
            try:
                diff = diff_articles(copy.text, successor.text)
                page = render_html(diff, f"captured {old_label}", f"captured {new_label}", str(title),
                                   context=1, images=shown, back=back)
            except Exception as exc:  # a copy damaged by hand or by disk: listed, without a diff
                logger.warning("%s: no diff (%s)", copy.file, exc)
                link = None
            else:
                counts, summary = diff.counts, describe_diff(diff)
                self.store.write_text(f"{SITE_DIR}/static/{link}", page)
            versions.append({
                "file": copy.file,
                "captured": old_label,
                "next": "current version" if successor.current else "next version",
                "diff": urllib.parse.quote(link) if link else None,
                "counts": counts,
                "summary": summary,
                # when the change was seen: the capture of the copy that replaced this one
                "changed": new_label,
                "changed_at": change_time(successor.meta, None if successor.current else Path(successor.file).stem),
                "replay": replay_link(self.replay_url, copy.meta),
            })
        current = copies[-1].meta if copies else {}
        return {"captured": capture_label(current), "replay": replay_link(self.replay_url, current),
                "title": str(current.get("title") or stem), "page": urllib.parse.quote(stem) + "/",
                "versions": versions}

    @property
    def relative(self) -> bool:
        """Whether the site is built with relative links (the default base URL, ``/``)."""
        return self.base_url == "/"

    def _config(self, template: Path) -> dict:
        config = yaml.safe_load(template.read_text(encoding="utf-8")) or {}
        config.update(
            baseURL=self.base_url,
            relativeURLs=self.relative,
            cacheDir=str(self.site / "cache"),
            module={"mounts": [
                {"source": str(self.archive / "articles"), "target": "content"},
                {"source": "pages", "target": "content"},
                {"source": str(self.source / "layouts"), "target": "layouts"},
                {"source": str(self.source / "static"), "target": "static"},
                {"source": "static", "target": "static"},
                {"source": "data", "target": "data"},
            ]},
        )
        return config

    # --- build ------------------------------------------------------------

    def _hugo(self, *args: str) -> subprocess.CompletedProcess:
        binary = shutil.which(self.hugo_bin)
        if binary is None:
            raise HugoError(f"hugo not found ({self.hugo_bin!r}): install it (Debian: apt-get install hugo) "
                            "or set HUGO_BIN")
        return subprocess.run([binary, "--source", str(self.site), *args],
                              capture_output=True, text=True, check=False)

    def build(self) -> BuildResult:
        """Run Hugo on the generated folder; raise HugoError when it fails."""
        proc = self._hugo("--destination", str(self.public), "--cacheDir", str(self.site / "cache"),
                          "--printPathWarnings")
        if proc.returncode != 0:
            raise HugoError(f"hugo failed (exit {proc.returncode}):\n{proc.stderr or proc.stdout}".rstrip())
        warnings = [line for line in (proc.stdout + proc.stderr).splitlines()
                    if line.lstrip().startswith(("WARN", "ERROR"))]
        if self.relative:
            name_index_files(self.public)
        if self.search:
            self.index_search()
        return BuildResult(self.public, proc.stdout, proc.stderr, warnings + self.unreadable_dates())

    def index_search(self) -> None:
        """The site's search index (``pagefind/`` in the built site), by
        Pagefind: the article pages and the diff pages (the versions' text),
        each in its own language, Chinese segmented as Chinese."""
        proc = subprocess.run([sys.executable, "-m", "pagefind", "--site", str(self.public)],
                              capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise HugoError(f"search index failed (pagefind exit {proc.returncode}): "
                            f"{(proc.stderr or proc.stdout).strip()[-2000:]}; HUGO_SEARCH=False builds without it")

    def unreadable_dates(self) -> list[str]:
        """Articles with a ``date`` Hugo could not read: Hugo 0.111 silently makes
        such a date year 1. Asks Hugo itself (``hugo list all``)."""
        proc = self._hugo("list", "all")
        if proc.returncode != 0:
            return [f"hugo list all failed: {proc.stderr.strip()}"]
        found = []
        for row in csv.DictReader(io.StringIO(proc.stdout)):
            if not (row.get("date") or "").startswith("0001-"):
                continue
            path = Path(row["path"])
            date = markdown.parse_or_empty(path.read_text(encoding="utf-8", errors="replace"), path)[0].get("date") if path.is_file() else None
            if date not in (None, ""):
                found.append(f"{row['path']}: date {date!r} is not a date Hugo reads (shown as unknown)")
        return found

    def run(self) -> BuildResult:
        """Generate, then build."""
        self.generate()
        return self.build()
