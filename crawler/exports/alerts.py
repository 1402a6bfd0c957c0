"""What a run changed, told to people: the notification text and the Atom feed.

Pure functions of change-log events (crawler/archive/changelog.py), so the words and
the feed are the same whoever sends them (crawler/extensions/notify.py):

* ``links(event, site_url)``: where to read an article and its diff. With the
  Hugo site's public address (``SITE_BASE_URL``) these are its pages (an
  article's page, and the side-by-side diff of the version the change
  replaced, as crawler/exports/hugo.py names them); without it, the article
  file in the archive and the ``scrapy diff`` command that shows the change.
* ``message(events, ...)``: one notification's title and body for a run.
* ``atom_feed(events, ...)``: ``changes.atom``, one entry per event, newest
  first, built with feedgen. Each entry's content is the event's own JSON
  line, so the feed says exactly what ``changes.jsonl`` says.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid
from collections import Counter
from pathlib import PurePosixPath

from crawler.archive.versions import article_stem
from crawler.core.timefmt import EPOCH, parse_iso
from crawler.diff.describe import CAUSE_NOTES, characters, paragraph_counts, plural

#: The events a notification lists, in this order (``archived`` is counted).
LISTED = ("changed", "gone", "back")


def links(event: dict, site_url: str = "") -> dict:
    """``page`` and, for a change, ``diff``: URLs on the site when
    ``site_url`` is set, else the archive file and the diff command."""
    article = event.get("article") or ""
    previous = event.get("previous_version")
    out = {}
    if site_url:
        base = site_url.rstrip("/") + "/"
        if article:
            # the page keeps the id's case (hugo/config.yaml: disablePathToLower)
            out["page"] = base + urllib.parse.quote(article_stem(article)) + "/"
        if previous and article:
            stamp = PurePosixPath(previous).stem
            out["diff"] = base + urllib.parse.quote(f"diffs/{article_stem(article)}/{stamp}.html")
        return out
    if article:
        out["page"] = article
    if previous and article:
        out["diff"] = f"scrapy diff {PurePosixPath(article).stem}  (previous copy: {previous})"
    return out


def describe_counts(counts: dict | None) -> str:
    """``1 paragraph changed, +1/-1 characters``, from a changed event's counts (the words of
    crawler.diff.describe; an event keeps only how many front-matter fields changed)."""
    if not counts:
        return ""
    parts = [*paragraph_counts(counts), characters(counts)]
    if counts.get("front_matter_changed"):
        parts.append(f"{plural(counts['front_matter_changed'], 'front-matter field')} changed")
    return ", ".join(parts)


def summary_line(event: dict) -> str:
    """One event in words (the feed entry's summary, a notification's line)."""
    kind = event.get("event")
    if kind == "changed":
        text = describe_counts(event.get("counts")) or "changed"
        if event.get("reverted_to"):
            text += f"; back to the text of {event['reverted_to']}"
        if event.get("cause") in CAUSE_NOTES:
            text += f"; {CAUSE_NOTES[event['cause']]}"
    elif kind == "gone":
        text = f"gone: {event.get('reason') or 'no reason given'}"
    elif kind == "back":
        text = "answers again"
    elif kind == "archived":
        text = "first capture"
    else:
        text = str(kind)
    if event.get("recorded_late"):
        text += " (recorded late)"
    return text


def headline(counts: Counter, run: str = "") -> str:
    words = [f"{counts[k]} {k}" for k in LISTED if counts[k]]
    if counts["archived"]:
        words.append(f"{counts['archived']} newly archived")
    return f"news archive{f' {run}' if run else ''}: " + ", ".join(words)


def message(events: list[dict], site_url: str = "", run: str = "", limit: int = 50) -> tuple[str, str] | None:
    """The notification of one run: ``(title, body)``, or None when the run
    recorded nothing (no notification then). Each changed, gone and back
    article with its counts and links, at most ``limit`` of them; newly
    archived articles are counted."""
    if not events:
        return None
    counts = Counter(e.get("event") for e in events)
    title = headline(counts, run)
    lines = [title, ""]
    shown = 0
    for kind in LISTED:
        listed = [e for e in events if e.get("event") == kind]
        if not listed:
            continue
        lines.append(f"{kind} ({len(listed)}):")
        for event in listed:
            if shown >= limit:
                break
            shown += 1
            lines.append(f"- {event.get('title') or event.get('article') or event.get('url')}: {summary_line(event)}")
            where = links(event, site_url)
            if where.get("page"):
                lines.append(f"  article: {where['page']}")
            if where.get("diff"):
                lines.append(f"  diff: {where['diff']}")
            if event.get("url"):
                lines.append(f"  source: {event['url']}")
        lines.append("")
    more = sum(counts[k] for k in LISTED) - shown
    if more > 0:
        lines += [f"... and {more} more: see changes.atom or changes.jsonl in the archive", ""]
    if counts["archived"]:
        lines += [f"newly archived: {counts['archived']}", ""]
    return title, "\n".join(lines).rstrip() + "\n"


def event_id(event: dict) -> str:
    """A stable id for an event: the same line gives the same entry id in
    every rewrite of the feed."""
    line = json.dumps(event, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return uuid.uuid5(uuid.NAMESPACE_URL, "news-archive-change:" + line).urn


def atom_feed(events: list[dict], feed_id: str, site_url: str = "", self_url: str = "",
              title: str = "News archive: changes") -> bytes:
    """``events`` (oldest first, as the log has them) as an Atom feed, newest
    first."""
    from feedgen.feed import FeedGenerator

    newest_first = list(reversed(events))
    feed = FeedGenerator()
    feed.id(feed_id)
    feed.title(title)
    feed.author({"name": "news-archive-crawler"})
    feed.generator("news-archive-crawler")
    feed.subtitle("Articles archived, changed, gone and back, from the archive's changes.jsonl")
    if site_url:
        feed.link(href=site_url, rel="alternate")
    if self_url:
        feed.link(href=self_url, rel="self")
    feed.updated(_time(newest_first[0]) if newest_first else EPOCH)
    for event in newest_first:
        entry = feed.add_entry(order="append")
        entry.id(event_id(event))
        name = event.get("title") or event.get("article") or event.get("url") or "?"
        entry.title(f"{event.get('event')}: {name}")
        entry.updated(_time(event))
        entry.published(_time(event))
        entry.category(term=str(event.get("event")))
        where = links(event, site_url) if site_url else {}
        if where.get("page") or event.get("url"):
            entry.link(href=where.get("page") or event["url"], rel="alternate")
        # more links, each with its rel (feedgen 1.0 writes an entry's links without it)
        entry.register_extension("more_links", _MoreLinks, atom=True, rss=False)
        if event.get("url") and where.get("page"):
            entry.more_links.add(event["url"], "via", "source")
        if where.get("diff"):
            entry.more_links.add(where["diff"], "related", "diff")
        entry.summary(summary_line(event))
        # the event itself, as the log has it: readers and scripts see it all
        entry.content(json.dumps(event, ensure_ascii=False, separators=(",", ":")), type="text")
    return feed.atom_str(pretty=True)


class _MoreLinks:
    """A feedgen entry extension: ``<link>`` elements with their ``rel``."""

    def __init__(self):
        self.links: list[tuple[str, str, str]] = []

    def add(self, href: str, rel: str, title: str) -> None:
        self.links.append((href, rel, title))

    def extend_ns(self):
        return {}

    def extend_atom(self, entry):
        from feedgen.util import xml_elem

        for href, rel, title in self.links:
            xml_elem("link", entry, href=href, rel=rel, title=title)  # as feedgen makes its own
        return entry

    def extend_rss(self, item):
        return item


def _time(event: dict):
    """The event's time, as an aware datetime (feedgen wants a zone)."""
    return parse_iso(event.get("time") or EPOCH)
