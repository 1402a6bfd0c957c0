"""An article file whose outcome was written but never recorded, found and described.

A run killed between writing an article and recording it (its WARC text
record, its change-log event, the capture state) leaves a file the state
does not know. Whatever the next check of that article finds (the same
page, a new version, a 404, a server error), that outcome is recorded then,
late, before anything else is said of the article: this module tells
whether a file is such a one, and what its outcome was. The Markdown
pipelines (crawler/pipelines/recordrepair.py) and the state recorder
(crawler/extensions/state.py, for gone and failed checks) write it.

A run killed twice in a row (after writing B, then after replacing B by C)
leaves an unrecorded copy behind the current file too, under versions/:
``unrecorded_versions`` finds those, oldest first, so that they are
recorded before whatever comes after them.
"""

from __future__ import annotations

from crawler.archive.storage import ArchiveStore
from crawler.archive.versions import article_versions
from crawler.core import markdown
from crawler.core.digest import parsed_parts, parts_digest, same_digest, text_digest
from crawler.diff.compare import diff_articles


def late_change(previous, text: str, earlier=()) -> dict:
    """The change a version recorded late made to the one before it; a text
    that equals an ``earlier`` version's (A, B, A) names it, as a change
    recorded in time does (``reverted_to``)."""
    digest = text_digest(text)
    reverted = next((v.file for v in reversed(earlier) if digest_of(v.text) == digest), None)
    return {"previous_version": previous.file, "previous_record_id": previous.meta.get("warc_record_id"),
            "counts": diff_articles(previous.text, text).counts, "reverted_to": reverted, "recorded_late": True}


def digest_of(text: str) -> str | None:
    """The text digest of a stored copy; None for one damaged by hand or by disk."""
    try:
        return text_digest(text)
    except Exception:  # noqa: BLE001 - a damaged copy is no text of the crawler's
        return None


def unrecorded_revert(evidence, path: str, capture: str | None, digest: str) -> bool:
    """Whether a copy with the text the capture state holds is a revert to it
    that was never recorded (A, B, A again, the run writing the second A
    killed): the change log has this text for the file, under another
    capture, and not under this copy's."""
    return bool(capture) and evidence.event(path, None, digest) and not evidence.event(path, capture, digest)


def held_by_state(evidence, path: str, capture: str | None, digest: str, recorded_digest: str | None) -> bool:
    """Whether the copy's text is the one the capture state holds
    (``recorded_digest``; a digest of another algorithm says nothing, and is
    taken as this text) and the copy is no unrecorded revert to it."""
    return bool(recorded_digest) and same_digest(recorded_digest, digest) is not False \
        and not unrecorded_revert(evidence, path, capture, digest)


def _late(path: str, text: str, meta: dict, digest: str, done: dict, older: list) -> dict:
    """What to record of a copy written and never recorded: ``older`` are the
    article's copies before it, oldest first (none: its first capture)."""
    before = older[-1] if older else None
    return {"path": path, "text": text, "url": meta.get("fetched_url"), "capture": meta.get("warc_record_id"),
            "date": meta.get("warc_date"), "extractor": meta.get("extractor"), "digest": digest,
            "done": done, "outcome": "updated" if before else "archived",
            "change": late_change(before, text, older[:-1]) if before else None}


def _copy_recorded(evidence, path: str, meta: dict, digest: str | None, recorded_digest: str | None) -> bool:
    """Whether the newest copy under versions/ counts as recorded: its event
    is in the change log, or the state holds its text (``held_by_state``)
    and no event of this file has that text (the events of an article
    renamed since name its older file). A copy that names no capture
    (written before copies did) is taken as recorded."""
    capture = meta.get("warc_record_id")
    return digest is None or not capture or evidence.event(path, capture, digest) \
        or held_by_state(evidence, path, capture, digest, recorded_digest)


def unrecorded_versions(archive: ArchiveStore, evidence, path: str, recorded_digest: str | None,
                        replaced: str | None = None) -> list[dict]:
    """The outcomes of the article's earlier copies (under versions/) that
    were written and never recorded, oldest first, each as
    ``unrecorded_outcome`` describes one. Walked back from the newest copy to
    the first whose event the change log holds (recorded, and so is
    everything before it); the newest is also recorded as ``_copy_recorded``
    says. ``replaced``: the copy a new version has just moved there (the
    newest), read alone first: the others are read only when it is
    unrecorded (an article can have hundreds)."""
    if not path:
        return []
    if replaced is not None and archive.exists(replaced):
        text = archive.read_bytes(replaced).decode("utf-8", errors="replace")  # as article_versions reads it
        meta = markdown.parse_or_empty(text, replaced)[0]
        if _copy_recorded(evidence, path, meta, digest_of(text), recorded_digest):
            return []
    earlier = [v for v in article_versions(archive, path) if not v.current]
    found = []
    for i in range(len(earlier) - 1, -1, -1):
        version = earlier[i]
        meta, digest = version.meta, digest_of(version.text)
        capture = meta.get("warc_record_id")
        if _copy_recorded(evidence, path, meta, digest, recorded_digest if i == len(earlier) - 1 else None):
            break
        done = {"text": evidence.text(path, capture, digest, url=meta.get("fetched_url")), "event": False}
        found.append(_late(path, version.text, meta, digest, done, earlier[:i]))
    return found[::-1]


def unrecorded_outcome(archive: ArchiveStore, evidence, path: str, recorded_digest: str | None) -> dict | None:
    """The outcome of the file at ``path`` if it was written and never
    recorded, else None. ``recorded_digest``: the text digest the capture
    state holds for the article. The result says what to record, and what of
    it the archive already holds (``done``: the text record, the event):
    ``{"path", "text", "url", "capture", "date", "extractor", "digest", "done",
    "outcome", "change"}``."""
    if not path or not archive.exists(path):
        return None
    text = archive.read_text(path)
    try:
        meta, paragraphs = markdown.parse(text)
        digest = parts_digest(parsed_parts(meta, paragraphs))  # text_digest, from the one parse
    except Exception:  # noqa: BLE001 - a copy damaged by hand or by disk is no outcome of the crawler's
        return None
    capture = meta.get("warc_record_id")
    if held_by_state(evidence, path, capture, digest, recorded_digest):
        return None  # recorded (or by another digest algorithm: nothing can be said)
    done = {"text": evidence.text(path, capture, digest, url=meta.get("fetched_url")),
            "event": evidence.event(path, capture, digest)}
    return _late(path, text, meta, digest, done, article_versions(archive, path)[:-1])
