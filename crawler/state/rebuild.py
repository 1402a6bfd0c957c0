"""Rebuild the capture state from the archive itself: articles and WARCs.

Every article file names its source (the last line), its answering URL and
its capture (front matter); the WARCs hold the payload digests, validators
and dates of every capture of that URL, revisits included. Nothing is
guessed: an article whose capture cannot be found keeps empty capture
fields, and the next refresh fetches it in full.
"""

from __future__ import annotations

import logging
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from crawler import sites
from crawler.core import markdown
from crawler.core.digest import text_digest
from crawler.core.timefmt import iso_label
from crawler.state.model import GONE, OK, ArticleState
from crawler.state.recorded import Evidence
from crawler.state.sqlite import StateStore

logger = logging.getLogger(__name__)


def article_state(root: Path, path: Path) -> ArticleState | None:
    """The state an article file states about itself."""
    text = path.read_text(encoding="utf-8")
    meta, paragraphs = markdown.parse(text)
    link = markdown.SOURCE_LINK.match(paragraphs[-1].strip()) if paragraphs else None
    if not link:
        logger.warning("%s: no source link on its last line: left out of the state", path)
        return None
    source_url = link.group("url")
    categories = meta.get("categories") or [path.parent.name]
    return ArticleState(
        key=sites.article_key(source_url),
        path=path.relative_to(root).as_posix(),
        site=str(categories[0] if isinstance(categories, list) else categories),
        source_url=source_url,
        url=meta.get("fetched_url") or meta.get("url") or source_url,
        title=str(meta.get("title") or ""),
        status=OK,
        text_digest=text_digest(text),
        warc_file=meta.get("warc_file"),
        warc_record_id=meta.get("warc_record_id"),
        warc_date=iso_label(meta.get("warc_date")),
        last_changed=iso_label(meta.get("warc_date")),
    )


def captures_by_uri(warc_dir: Path, uris: set[str], rendered: set[str] | None = None) -> dict[str, list[dict]]:
    """For each URI, its response and revisit records in date order; the URIs
    a browser rendered are added to ``rendered``."""
    found: dict[str, list[dict]] = {}
    rendered = set() if rendered is None else rendered
    for warc in sorted(warc_dir.glob("*.warc.gz")) if warc_dir.is_dir() else ():
        try:
            with open(warc, "rb") as handle:
                for record in ArchiveIterator(handle):
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    if record.rec_type == "resource" and uri.startswith("urn:dom:") and uri[8:] in uris:
                        rendered.add(uri[8:])  # the browser rendered it (crawler/downloadermiddlewares/browser.py)
                        continue
                    if record.rec_type not in ("response", "revisit"):
                        continue
                    if uri not in uris:
                        continue
                    http = record.http_headers
                    found.setdefault(uri, []).append({
                        "type": record.rec_type,
                        "file": warc.name,
                        "id": record.rec_headers.get_header("WARC-Record-ID"),
                        "date": record.rec_headers.get_header("WARC-Date"),
                        "digest": record.rec_headers.get_header("WARC-Payload-Digest"),
                        "status": http.get_statuscode() if http else None,
                        "etag": http.get_header("ETag") if http else None,
                        "last_modified": http.get_header("Last-Modified") if http else None,
                    })
        except Exception as exc:  # a damaged WARC: the index step names it too
            logger.error("state rebuild: %s unreadable past a point (%s)", warc.name, exc)
    for records in found.values():
        records.sort(key=lambda r: r["date"] or "")
    return found


def rebuild_into(store: StateStore, root: str | Path) -> int:
    """Fill ``store`` from the archive at ``root``; returns the article count."""
    root = Path(root)
    states = []
    for path in sorted((root / "articles").rglob("*.md")):
        try:
            state = article_state(root, path)
        except Exception as exc:
            logger.error("state rebuild: %s unreadable (%s): left out", path, exc)
            continue
        if state is not None:
            states.append(state)
    statuses = last_statuses(root)
    evidence = Evidence(root)
    for state in states:
        # the digest of the text last recorded: a file whose outcome the
        # change log never got (a run killed after writing it) gets none, so
        # the next check records it (crawler.pipelines.recordrepair) instead
        # of taking the file for what was recorded
        if not evidence.event(state.path, state.warc_record_id, state.text_digest):
            logger.warning("state rebuild: %s was written but its outcome never recorded: "
                           "recorded at its next check", state.path)
            state.text_digest = None
    rendered: set[str] = set()
    captures = captures_by_uri(root / "warc", {s.url for s in states if s.url}, rendered)
    for state in states:
        state.browser = 1 if state.url in rendered else 0
        records = captures.get(state.url, [])
        full = [r for r in records if r["type"] == "response" and r["status"] == "200"]
        # the capture the article's text came from, as its front matter names
        # it: a later capture may have been refused (empty, collapsed), and a
        # revisit must never call the page unchanged against that one
        named = [r for r in full if r["id"] == state.warc_record_id]
        if named or full:
            latest = (named or full)[-1]
            state.warc_file, state.warc_record_id = latest["file"], latest["id"]
            state.warc_date, state.payload_digest = latest["date"], latest["digest"]
            state.warc_uri = state.url
            state.etag, state.last_modified = latest["etag"], latest["last_modified"]
            state.first_captured = full[0]["date"]
        if records:
            state.last_checked = records[-1]["date"]
        _restore_status(state, statuses.get(state.path))
        store.put(state)
    return len(states)


def last_statuses(root: Path) -> dict[str, dict]:
    """Per article file, its last gone/back event in the change log."""
    from crawler.archive.changelog import ChangeLog
    from crawler.archive.storage import ArchiveStore

    found = {}
    for event in ChangeLog(ArchiveStore(root)).events():
        if event.get("event") in ("gone", "back") and event.get("article"):
            found[event["article"]] = event
    return found


def _restore_status(state: ArticleState, event: dict | None) -> None:
    """An article the change log last called gone stays gone, since then."""
    if event and event["event"] == "gone":
        state.status, state.status_since, state.last_error = GONE, event.get("time"), event.get("reason")
