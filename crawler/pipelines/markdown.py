"""Write each Article as a seed-format Markdown file, never losing a good copy.

``articles/<site>/<id>.md``, named from the site's article id or a hash of
the article's canonical key (crawler.sites.article_key: one file whatever
the spelling of the URL, tracking parameters and fragments included), never
from the title. Writes are atomic (storage module). An extraction that is
empty, too long, or much shorter than the copy already stored, does not
replace it: it is logged and kept aside under ``rejected/``. A changed
article moves its previous copy to ``versions/<site>/<id>/<capture time of
that copy>.md`` first.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from typing import NamedTuple
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem
from scrapy.http import Response

from crawler import sites
from crawler.archive.storage import ArchiveStore
from crawler.archive.versions import article_stem, article_versions
from crawler.core import markdown
from crawler.core.digest import article_parts, parsed_parts, parts_digest
from crawler.core.markdown import plain_text
from crawler.core.timefmt import stamp_name, warc_date_stamp
from crawler.diff.compare import diff_parts
from crawler.extensions.archiveio import run_io
from crawler.extensions.evidence import recorded_evidence
from crawler.extensions.statestore import state_store
from crawler.items import outcome_word
from crawler.sites import identity
from crawler.warc.lookup import capture_payload

logger = logging.getLogger(__name__)
SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]")


#: The article fields that extraction makes and the Markdown shows.
EXTRACTED = ("title", "date", "lang", "thumbnail", "blocks")


#: How long a change waits for the stored copy's page to be read again (a shared crawl holds the
#: article's lock meanwhile, whose lease is REDIS_LEASE_TIMEOUT): longer, and the change has no cause.
REREAD_TIMEOUT = 10.0


class Reread(NamedTuple):
    """What ``write`` asks of ``process_item`` before it records a change:
    the stored copy's own capture (its page and response record), to be
    read again by today's extraction (``change_cause``)."""

    url: str
    record_id: str
    warc_file: str | None


def kept_from_stored(old_meta: dict, fields) -> dict:
    """What of the stored copy's front matter stays over what a page says,
    where the page says less, not otherwise: a cover whose address only
    changed its query (a cache-buster, a signed or sized link) or that the
    page no longer names (a mobile or AMP template without the og:image
    tag); a date of the same day without its time of day, or none (such a
    template, dated by its address); the language an earlier extraction
    gave a Chinese page that declares none (``und``, a template's ``en``),
    now read as ``zh``. None of these is a change of the article."""
    kept = {}
    stored_cover, cover = old_meta.get("thumbnail"), fields.get("thumbnail")
    if stored_cover and stored_cover != cover and (same_image(stored_cover, cover) or not cover):
        kept["thumbnail"] = stored_cover
    if less_precise_date(str(old_meta.get("date") or ""), fields.get("date") or ""):
        kept["date"] = str(old_meta["date"])
    stored_lang = old_meta.get("lang")
    stored_lang = stored_lang[0] if isinstance(stored_lang, list) and stored_lang else stored_lang
    if stored_lang in ("und", "en") and fields.get("lang") == "zh":
        kept["lang"] = stored_lang
    return kept


def change_cause(article, old_meta: dict, old_parts, reread: dict | None) -> str | None:
    """Why the article's text differs from the stored copy's: ``"page"``
    (the stored copy's own page, read by today's extraction, gives the
    stored text: the site changed it), ``"extraction"`` (that page gives the
    new text: the site did not; an upgrade or a setting read it otherwise),
    ``"page and extraction"`` (neither), None when that page could not be
    read again. So that a diff of an extractor's change is never taken for
    an edit. The re-read page gets what write() keeps of the stored copy,
    as the new page did."""
    if not reread or reread.get("record_id") != old_meta.get("warc_record_id"):
        return None  # no re-read, or one of another copy than the one stored now
    again = {**dict(article), **reread["fields"]}
    again.update(kept_from_stored(old_meta, again))
    digest = parts_digest(article_parts(markdown.render(again)))
    if digest == article["text_digest"]:
        return "extraction"
    if old_parts is None:  # a stored copy that cannot be read: nothing to say of the rest
        return None
    return "page" if digest == parts_digest(old_parts) else "page and extraction"


class Rejected(DropItem):
    """An extraction kept aside instead of archived; ``kind`` counts it."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind


def _hashed(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:16]


def article_path(article) -> str:
    """Relative path of an article's Markdown file."""
    site = SAFE_NAME.sub("_", article.get("site") or "web")
    name = article.get("article_id")
    key = article.get("key") or sites.article_key(article["source_url"])
    name = SAFE_NAME.sub("_", name) if name else _hashed(key)
    return f"articles/{site}/{name}.md"


def legacy_path(article) -> str | None:
    """Where earlier versions put an article without a site id (a hash of
    the seed URL as written), when that differs from today's name."""
    if article.get("article_id"):
        return None
    site = SAFE_NAME.sub("_", article.get("site") or "web")
    old = f"articles/{site}/{_hashed(article['source_url'])}.md"
    return old if old != article_path(article) else None


def body_text_length(paragraphs: list[str]) -> int:
    """Characters of body text in a parsed Markdown body (no images, no source link)."""
    return sum(len(p.replace("**", "").strip()) for p in paragraphs[:-1] if not p.startswith("!["))


def _now_stamp() -> str:
    return stamp_name(micro=True)


def capture_stamp(meta: dict) -> str | None:
    """``20250213T171508Z`` from a copy's ``warc_date``, or None."""
    return warc_date_stamp(meta.get("warc_date"))


#: Below this share of the stored copy's text (character shingles), a shorter
#: page with another title at the article's own address is an interstitial
#: (maintenance, cookie consent, an error page served as 200), not an edit: an
#: edit, however large, keeps some sentences or the headline.
INTERSTITIAL_SHARE = 0.05


def interstitial(old_meta: dict, old_paragraphs: list[str], article) -> bool:
    """Whether the new page at the article's address is no version of it: it
    shares (almost) none of the stored text and has another title."""
    old_title, new_title = old_meta.get("title") or "", article.get("title") or ""
    if identity.same_title(old_title, new_title):
        return False
    share = identity.shared_text(identity.body_paragraphs(old_paragraphs), identity.page_paragraphs(article))
    return share < INTERSTITIAL_SHARE


def less_precise_date(stored: str, new: str) -> bool:
    """Whether ``new`` says less than the ``stored`` date and nothing else:
    none at all, or its day at midnight where the stored one has a time of
    day (a mobile or AMP page without ``article:published_time``, dated by
    its address). The stored date then stays: no new version."""
    if not stored or stored == new:
        return False
    return not new or (new.endswith(" 00:00:00") and new[:10] == stored[:10] and not stored.endswith(" 00:00:00"))


def same_image(stored: str | None, new: str | None) -> bool:
    """Whether two cover image addresses are one image: the same scheme, host
    and path, whatever their query strings say (``?v=1743000000``)."""
    if not stored or not new:
        return False
    a, b = urlsplit(stored), urlsplit(new)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path) and a.path not in ("", "/")


class MarkdownWriterPipeline:
    def __init__(self, store: ArchiveStore, min_chars: int, min_ratio: float, max_chars: int = 0, stats=None,
                 crawler=None):
        self.crawler = crawler  # None: write in the calling thread (tests of the component)
        self.store = store
        self.min_chars = min_chars
        self.min_ratio = min_ratio
        self.max_chars = max_chars
        self.stats = stats
        self.written: dict[str, str] = {}  # file -> source URL it holds, in this crawl

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(
            ArchiveStore(s.get("ARCHIVE_DIR")),
            s.getint("ARCHIVE_MIN_TEXT_CHARS"),
            s.getfloat("ARCHIVE_MIN_LENGTH_RATIO"),
            s.getint("ARCHIVE_MAX_TEXT_CHARS"),
            crawler.stats,
            crawler,
        )

    async def process_item(self, item, spider=None):
        done = await run_io(self.crawler, self.write, item)
        if isinstance(done, Reread):  # a change: what would today's extraction make of the stored copy's page?
            item["reread"] = await self.reread(done)
            done = await run_io(self.crawler, self.write, item)
        return done

    async def reread(self, capture: Reread) -> dict:
        """``{"record_id", "fields"}``: the article fields today's extraction
        reads from the page the stored copy was made from (its response
        record in the WARC); {} when that page, an extraction pool or a body
        is not at hand, or the reading fails or takes too long. Never an
        error: the change is recorded all the same, without its cause."""
        extractor = getattr(self.crawler.spider, "extractor", None)
        if extractor is None:
            return {}
        try:
            found = await run_io(self.crawler, capture_payload, self.store.root, capture.url, capture.record_id,
                                 capture.warc_file)
            if found is None:
                return {}
            body, content_type, _ = found
            fields, _, _ = await asyncio.wait_for(extractor.extract_response(
                Response(capture.url, body=body, headers={"Content-Type": content_type} if content_type else None)),
                REREAD_TIMEOUT)
        except Exception as exc:  # ExtractionError, a damaged WARC or index, a timeout: no cause, no lost outcome
            logger.warning("%s: the stored copy's page could not be read again (%s: %s)", capture.url,
                           type(exc).__name__, exc)
            return {}
        if not fields or sites.too_little_text(capture.url, fields.get("blocks"), self.min_chars):
            return {}  # nothing read: not a reading of that page (a script shell the browser had rendered)
        return {"record_id": capture.record_id, "fields": {key: fields.get(key) for key in EXTRACTED}}

    def write(self, item):
        """Decide the article's outcome and write it (in the archive I/O thread)."""
        article = ItemAdapter(item)
        if not article.get("key"):
            article["key"] = sites.article_key(article["source_url"])
        rel = self._identity(article)
        first = self.written.get(rel)
        if first is not None and first != article["source_url"]:
            # two seed URLs of one article (new.qq.com and news.qq.com, say):
            # the first one's file stands; writing the second would make a
            # new "version" out of a different source link on every crawl
            logger.info("%s is the article %s already archived as %s", article["source_url"], first, rel)
            article["same_as"] = first
            return self._done(article, rel, "unchanged")
        text = article["rendered"] = markdown.render(article)
        new_parts = article_parts(text)
        article["text_digest"] = parts_digest(new_parts)  # the state keeps it (crawler/extensions/state.py)
        new_len = len(plain_text(article.get("blocks") or []).strip())

        short = sites.too_little_text(article.get("url") or article["source_url"], article.get("blocks"),
                                      self.min_chars)
        if short:
            self._reject(rel, text, f"empty extraction ({new_len} characters of text, {short[0]} columns; "
                                    f"this site's floor is {short[1]})", "empty extraction")
        if self.max_chars and new_len > self.max_chars:
            self._reject(rel, text, f"text of {new_len} characters is longer than ARCHIVE_MAX_TEXT_CHARS "
                                    f"({self.max_chars})", "text too long")
        stored = self._stored_copy(article, rel)
        if stored is None:
            self.store.write_text(rel, text)
            return self._done(article, rel, "archived")

        old_text = self.store.read_bytes(stored).decode("utf-8", errors="replace")
        try:
            old_meta, old_paragraphs = markdown.parse(old_text)
            old_parts = parsed_parts(old_meta, old_paragraphs)
            kept = kept_from_stored(old_meta, article)  # where the page says less: no new version
            if kept:
                article.update(kept)
                text = article["rendered"] = markdown.render(article)
                new_parts = article_parts(text)
                article["text_digest"] = parts_digest(new_parts)
            same, old_len = parts_digest(old_parts) == article["text_digest"], body_text_length(old_paragraphs)
            diff = None if same else diff_parts(old_parts, new_parts)  # only a change is worth diffing
        except Exception as exc:  # a stored copy damaged by hand or by disk
            logger.warning("stored copy %s is unreadable (%s): kept as a version", rel, exc)
            old_meta, old_parts, diff, same, old_len = {}, None, None, False, 0
        if same:
            article["stored_capture"] = old_meta.get("warc_record_id")
            self._adopt_legacy_name(stored, rel)
            if any(key in old_meta for key in markdown.LEGACY_CAPTURE_KEYS):
                # written by an earlier version with a key Hugo refuses (url):
                # the same article, rewritten in place with today's keys
                self.store.write_text(rel, text)
                logger.info("%s: front matter keys brought up to date (same article)", rel)
            return self._done(article, rel, "unchanged")
        if new_len < old_len * self.min_ratio:
            self._reject(rel, text, f"extraction much shorter than the stored copy ({new_len} < {old_len} characters)",
                         "much shorter than the stored copy")
        if new_len < old_len and interstitial(old_meta, old_paragraphs, article):
            self._reject(rel, text, f"the page at the article's address shares none of its text and has another "
                                    f"title ({article.get('title')!r}): a maintenance, consent or error page",
                         "not the article's text")
        if "reread" not in article and self.rereadable(article, old_meta):
            return Reread(old_meta["fetched_url"], old_meta["warc_record_id"], old_meta.get("warc_file"))
        cause = change_cause(article, old_meta, old_parts, article.get("reread"))
        self._adopt_legacy_name(stored, rel)  # only now: a refused extraction moves nothing
        version, kept = self._version_name(rel, old_meta)
        if not kept:
            self.store.keep_copy(rel, version)
        reverted = self._reverted_to(rel, article["text_digest"])
        self.store.write_text(rel, text)  # atomic: the old copy stays until now
        article["change"] = {
            "previous_version": version,
            "previous_record_id": old_meta.get("warc_record_id"),
            "counts": diff.counts if diff is not None else None,
            "reverted_to": reverted,
            "cause": cause,
        }
        if cause == "extraction":
            logger.warning("%s: a new version, but not a new text on the page: the stored copy's own page, read "
                           "by today's extraction, gives it (recorded with cause: extraction)", rel)
        if reverted:
            logger.info("%s: the text reverts to the version %s", rel, reverted)
        return self._done(article, rel, "updated")

    def rereadable(self, article, old_meta: dict) -> bool:
        """Whether the stored copy's own page can be read again for the cause
        of a change: it names its capture, and neither it nor the new one is
        a page rendered in the browser (whose response is the script shell)."""
        if self.crawler is None or article.get("browser") or not old_meta.get("fetched_url") \
                or not old_meta.get("warc_record_id"):
            return False
        state = state_store(self.crawler).get(article["key"])
        return not (state is not None and state.browser)

    def _identity(self, article) -> str:
        """The article's file, and its key, from the state once it is
        archived: never derived again from today's URL, host or libraries
        (a domain move or a new canonical form would fork the article into a
        second file). A file another key already holds is that article (two
        seed URLs of one article, e.g. two share links of one qq story), and
        so is a seed URL that is an archived article's source or last
        address (a seed naming where an article moved to). Where a new seed
        URL's page answered is no evidence: two articles redirected to one
        consent page are not one article.
        Only the one logged migration (legacy_path) renames a file."""
        derived = article_path(article)
        if self.crawler is None:
            return derived
        store = state_store(self.crawler)
        state = store.get(article["key"]) or store.by_path(derived) or store.by_address(article["source_url"])
        if state is None:
            return derived
        if state.key != article["key"]:
            logger.info("%s is the article %s already archived as %s", article["source_url"], state.source_url,
                        state.path)
            article["key"] = state.key
        if state.source_url != article["source_url"]:
            article["source_link"] = state.source_url  # its link stays the one it was archived with
        if state.site and state.site != article.get("site"):
            # so does its site (its folder, categories, tags and link label): a domain move is no edit
            article["site"] = state.site
        if state.path != derived and state.path == legacy_path(article):
            return derived  # _stored_copy finds the legacy file and _adopt_legacy_name moves it
        return state.path

    def _version_name(self, rel: str, old_meta: dict) -> tuple[str, bool]:
        """versions/<site>/<id>/<capture time of the stored copy>.md, and
        whether it holds the stored copy already (a run killed between the
        copy and the new file: the copy is not made twice). Never an
        existing file's name otherwise."""
        stamp = capture_stamp(old_meta) or _now_stamp()
        current = self.store.read_bytes(rel)
        name, n = f"versions/{article_stem(rel)}/{stamp}.md", 1
        while self.store.exists(name):
            if self.store.read_bytes(name) == current:
                return name, True
            name, n = f"versions/{article_stem(rel)}/{stamp}-{n}.md", n + 1
        return name, False

    def _reverted_to(self, rel: str, digest: str) -> str | None:
        """The earlier version whose text the new one equals, if any (a page
        flipping between two texts): named in the change, not a new text.
        The versions are read only when the change log has recorded this
        text for the file before (a live article can have hundreds)."""
        if self.crawler is not None and not recorded_evidence(self.crawler).event(rel, None, digest):
            return None
        for version in reversed(article_versions(self.store, rel)):
            if version.current:
                continue
            try:
                if parts_digest(article_parts(version.text)) == digest:
                    return version.file
            except Exception:  # a copy damaged by hand or by disk is no earlier text
                continue
        return None

    def _stored_copy(self, article, rel: str) -> str | None:
        """Where the article's stored copy is: its file, or the file an
        earlier version named from a hash of the URL as written; None if new."""
        if self.store.exists(rel):
            return rel
        old = legacy_path(article)
        return old if old is not None and self.store.exists(old) else None

    def _adopt_legacy_name(self, stored: str, rel: str) -> None:
        """An article archived under its old hashed name moves to its
        canonical name once, with its versions (nothing is rewritten). The
        versions move first: a run stopped between the two renames leaves the
        article under its old name, which the next run finds and moves, never
        versions under a name no article has."""
        if stored == rel:
            return
        old_versions, new_versions = f"versions/{article_stem(stored)}", f"versions/{article_stem(rel)}"
        if self.store.exists(old_versions) and not self.store.exists(new_versions):
            self.store.rename(old_versions, new_versions)
        self.store.rename(stored, rel)
        logger.warning("%s renamed to %s (files are now named from the canonical article key)", stored, rel)

    def _done(self, article, rel, outcome):
        self.written.setdefault(rel, article["source_url"])
        article["path"] = rel
        article["outcome"] = outcome
        if self.stats is not None:
            self.stats.inc_value(f"archive/{outcome_word(outcome)}")
        logger.info("%s: %s -> %s", outcome_word(outcome), article.get("source_url"), rel)
        return article.item

    def _reject(self, rel, text, reason, kind):
        aside = f"rejected/{article_stem(rel)}-{_now_stamp()}.md"
        self.store.write_text(aside, text)
        if self.stats is not None:
            self.stats.inc_value("archive/rejected")
        raise Rejected(f"{reason}; kept aside as {aside}", kind)
