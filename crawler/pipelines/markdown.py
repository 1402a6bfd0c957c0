"""Write each Article as a seed-format Markdown file, never losing a good copy.

``articles/<site>/<id>.md``, named from the site's article id or a hash of
the source URL, never from the title. Writes are atomic (storage module).
An extraction that is empty, or much shorter than the copy already stored,
does not replace it: it is logged and kept aside under ``rejected/``. A
changed article moves its previous copy to ``versions/<site>/<id>/`` first.
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import datetime, timezone

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from crawler import markdown
from crawler.items import plain_text
from crawler.storage import ArchiveStore

logger = logging.getLogger(__name__)
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def article_path(article) -> str:
    """Relative path of an article's Markdown file."""
    site = SAFE_NAME.sub("_", article.get("site") or "web")
    name = article.get("article_id")
    name = SAFE_NAME.sub("_", name) if name else hashlib.sha256(
        article["source_url"].encode("utf-8")).hexdigest()[:16]
    return f"articles/{site}/{name}.md"


def body_text_length(paragraphs: list[str]) -> int:
    """Characters of body text in a parsed Markdown body (no images, no source link)."""
    return sum(len(p.replace("**", "").strip()) for p in paragraphs[:-1] if not p.startswith("!["))


def _stem(rel: str) -> str:
    """``articles/qq/X.md`` -> ``qq/X``, for the versions/ and rejected/ names."""
    return rel[len("articles/"):-len(".md")]


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class MarkdownWriterPipeline:
    def __init__(self, store: ArchiveStore, min_chars: int, min_ratio: float, stats=None):
        self.store = store
        self.min_chars = min_chars
        self.min_ratio = min_ratio
        self.stats = stats
        self.written: dict[str, str] = {}  # file -> source URL it holds, in this crawl

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            ArchiveStore(s.get("ARCHIVE_DIR")),
            s.getint("ARCHIVE_MIN_TEXT_CHARS"),
            s.getfloat("ARCHIVE_MIN_LENGTH_RATIO"),
            crawler.stats,
        )

    def process_item(self, item, spider=None):
        article = ItemAdapter(item)
        rel = article_path(article)
        first = self.written.get(rel)
        if first is not None and first != article["source_url"]:
            # two seed URLs of one article (new.qq.com and news.qq.com, say):
            # the first one's file stands; writing the second would make a
            # new "version" out of a different source link on every crawl
            logger.info("%s is the article %s already archived as %s", article["source_url"], first, rel)
            return self._done(article, rel, "unchanged")
        text = markdown.render(article)
        new_len = len(plain_text(article.get("blocks") or []).strip())

        if new_len < self.min_chars:
            self._reject(rel, text, f"empty extraction ({new_len} characters of text)")
        if self.store.exists(rel):
            old_text = self.store.read_bytes(rel).decode("utf-8", errors="replace")
            try:
                stored = markdown.comparable(old_text)
                same = stored == markdown.comparable(text)
                old_len = body_text_length(stored[1])
            except Exception as exc:  # a stored copy damaged by hand or by disk
                logger.warning("stored copy %s is unreadable (%s): kept as a version", rel, exc)
                same, old_len = False, 0
            if same:
                return self._done(article, rel, "unchanged")
            if new_len < old_len * self.min_ratio:
                self._reject(rel, text, f"extraction much shorter than the stored copy ({new_len} < {old_len} characters)")
            self.store.keep_copy(rel, f"versions/{_stem(rel)}/{_stamp()}.md")
            self.store.write_text(rel, text)  # atomic: the old copy stays until now
            return self._done(article, rel, "updated")
        self.store.write_text(rel, text)
        return self._done(article, rel, "archived")

    def _done(self, article, rel, outcome):
        self.written.setdefault(rel, article["source_url"])
        article["path"] = rel
        article["outcome"] = outcome
        if self.stats is not None:
            self.stats.inc_value(f"archive/{outcome}")
        logger.info("%s: %s -> %s", outcome, article.get("source_url"), rel)
        return article.item

    def _reject(self, rel, text, reason):
        aside = f"rejected/{_stem(rel)}-{_stamp()}.md"
        self.store.write_text(aside, text)
        raise DropItem(f"{reason}; kept aside as {aside}")
