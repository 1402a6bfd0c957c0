"""Read seed documents and find what to crawl in them.

Seeds come in three shapes: Hugo-style front matter ending with a
``[qq](https://new.qq.com/rain/a/...)`` source link, a Jekyll-style note with a
reference list, and plain Markdown with no front matter at all. Each one
yields its source URL (if any), the pages it references and its images.

One bad seed never costs the others, nor its own links: front matter that
does not load is ignored and the body still read; a link that is not an
http(s) URL is dropped and named with why; a seed that cannot be read at all,
or names nothing to crawl, is named and skipped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import frontmatter
from markdown_it import MarkdownIt
from w3lib.url import safe_url_string

logger = logging.getLogger(__name__)

#: CommonMark: inline, reference and autolinks come out as link tokens, with
#: titles and parentheses in URLs handled. Bare URLs are found in the text
#: between links with its linkify-it (see _bare_urls), not its linkify rule.
MARKDOWN = MarkdownIt("commonmark", {"linkify": True})
# Every link becomes a token, ``javascript:`` and ``data:`` ones too, so that
# each one dropped is named rather than silently left as text.
MARKDOWN.validateLink = lambda url: True
_normalize_link = MARKDOWN.normalizeLink  # replaced by _read_link below
#: A bare URL written into Chinese text ends at CJK or full-width punctuation.
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef\u2014\u2015\u00b7\u2018\u2019\u201c\u201d\u2026]")
#: A URL glued to a Chinese character or emphasis marks before it.
GLUED_URL = re.compile(r"(?:(?<=[^\s\x00-\x7f])|[*_~]+)(?=https?://|www\.)")
EMPHASIS = {"em_open", "em_close", "strong_open", "strong_close"}
#: The trailing source link of an archived article: ``[qq](https://...)``.
SOURCE_LINK_RE = re.compile(r"^\[(?P<site>[\w.-]+)\]\(.+\)$")
#: A host name as it stands after IDNA encoding (underscores occur in the wild).
HOST_RE = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?:\.(?!-)[a-z0-9_-]{1,63})*\.?")
#: What undecodable bytes became (U+FFFD), percent-encoded.
REPLACEMENT_IN_URL = re.compile(r"\ufffd|%EF%BF%BD", re.I)

SEED_SUFFIXES = (".md", ".markdown", ".txt")
#: A seed bigger than this is not a document someone wrote: skipped, named.
SEED_MAX_BYTES = 10 * 1024 * 1024


class DroppedLink(NamedTuple):
    """A link of a seed that is not crawled, and why. ``malformed`` marks a
    link meant as a web page that cannot be one (a typo), as opposed to a
    link that is not a web page at all (``mailto:``, relative)."""

    url: str
    kind: str  # "link" or "image"
    reason: str
    malformed: bool


class LinkError(ValueError):
    """A seed link that is not an http(s) URL."""

    def __init__(self, reason: str, malformed: bool = False):
        super().__init__(reason)
        self.malformed = malformed


@dataclass
class Seed:
    """What one seed document asks the crawler to fetch."""

    name: str
    metadata: dict = field(default_factory=dict)
    source_url: str | None = None
    references: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    #: why the front matter was ignored, when it was
    front_matter_error: str | None = None
    #: every link not crawled, once each, in document order
    dropped: list[DroppedLink] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        """Every page URL to archive, the source first."""
        return ([self.source_url] if self.source_url else []) + self.references


def web_url(link: str) -> str:
    """The http(s) URL a link names, spelled as Scrapy will request it: scheme
    and host in lower case, ``//host/path`` as https, the rest percent-encoded.

    Raises LinkError with the reason for anything else.
    """
    link = link.strip().strip("<>").strip()
    if not link:
        raise LinkError("empty link")
    if link.startswith("//"):
        link = "https:" + link
    try:
        parts = urlsplit(link)
        parts.port  # noqa: B018 -- raises on a port that is not a number in range
    except ValueError as exc:
        raise LinkError(f"malformed URL: {exc}", malformed=True) from None
    if not parts.scheme:
        raise LinkError("relative link, with no site to fetch it from")
    if parts.scheme not in ("http", "https"):
        raise LinkError(f"not a web address ({parts.scheme}:)")
    host = parts.hostname or ""
    if not host:
        raise LinkError("malformed URL: no host", malformed=True)
    if REPLACEMENT_IN_URL.search(link):
        raise LinkError("malformed URL: undecodable bytes (U+FFFD) in it", malformed=True)
    if ":" not in host:  # IPv6 literals were checked by urlsplit
        try:
            ascii_host = host.encode("idna").decode("ascii")
        except UnicodeError:
            ascii_host = ""
        if not HOST_RE.fullmatch(ascii_host):
            raise LinkError(f"malformed URL: bad host {host!r}", malformed=True)
    try:
        return safe_url_string(link)
    except ValueError as exc:  # UnicodeError included
        raise LinkError(f"malformed URL: {exc}", malformed=True) from None


def _read_link(link: str) -> str:
    """A link destination as markdown-it normalises it (percent-encoding,
    punycode), without the whitespace or angle brackets around it; one that
    is no web URL stays as written, so that it is named as written."""
    link = link.strip().strip("<>").strip()
    try:
        web_url(link)
    except LinkError:
        return link
    return _normalize_link(link)


MARKDOWN.normalizeLink = _read_link


def parse_seed(text: str, name: str = "<seed>") -> Seed:
    """Parse one seed document's text. Never fails on the front matter: if it
    does not load, ``front_matter_error`` says why and the body is still read.

    The source link is the last non-empty line when it has the
    ``[site](url)`` shape; every other non-image link is a reference.
    """
    metadata, body, error = _front_matter(text)
    seed = Seed(name=name, metadata=metadata, front_matter_error=error)

    lines = [line for line in body.splitlines() if line.strip()]
    if lines and SOURCE_LINK_RE.match(lines[-1].strip()):
        # the URL as markdown-it reads it, so that it compares equal to the
        # same link anywhere else in the seed
        link = next((url for kind, url in _links(lines[-1].strip()) if kind == "link"), None)
        try:
            seed.source_url = web_url(link) if link is not None else None
        except LinkError:
            pass  # dropped, with its reason, below

    named = set()
    for kind, link in _links(body):
        try:
            url = web_url(link)
        except LinkError as exc:
            if link not in named:
                named.add(link)
                seed.dropped.append(DroppedLink(link, kind, str(exc), exc.malformed))
            continue
        if kind == "image":
            _append_once(seed.images, url)
        elif url != seed.source_url:
            _append_once(seed.references, url)
    return seed


def _front_matter(text: str) -> tuple[dict, str, str | None]:
    """(metadata, body, why the front matter was ignored or None), split the
    way python-frontmatter splits (no closing delimiter: no front matter)."""
    text = text.strip()
    handler = frontmatter.detect_format(text, frontmatter.handlers)
    if handler is None:
        return {}, text, None
    try:
        raw, body = handler.split(text)
    except ValueError:
        return {}, text, None
    body = body.strip()
    try:
        metadata = handler.load(raw)
    except Exception as exc:  # any constructor (date, !!float, !!binary...), syntax or depth error
        return {}, body, _describe(exc)
    if metadata is None:
        return {}, body, None
    if not isinstance(metadata, dict):
        return {}, body, f"not a mapping but a {type(metadata).__name__}"
    return metadata, body, None


def _describe(exc: BaseException) -> str:
    """An exception on one line, with its type."""
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _links(markdown_text: str):
    """(``"link"`` or ``"image"``, URL) for every link in document order."""
    for token in MARKDOWN.parse(markdown_text):
        depth, text = 0, []
        for child in [*(token.children or ()), None]:
            if child is not None and depth == 0 and child.type in ("text", "softbreak", "hardbreak"):
                text.append(child.content if child.type == "text" else "\n")
                continue
            if child is not None and depth == 0 and child.type in EMPHASIS and child.markup.startswith("_"):
                # "__init__" in a bare URL parses as emphasis: put it back
                text.append(child.markup)
                continue
            if text:  # plain text between links: its bare URLs
                yield from (("link", url) for url in _bare_urls("".join(text)))
                text = []
            if child is None:
                break
            if child.type == "link_open":
                depth += 1
                yield "link", child.attrs.get("href", "")
            elif child.type == "link_close":
                depth -= 1
            elif child.type == "image":
                yield "image", child.attrs.get("src", "")


def _bare_urls(text: str):
    """Bare URLs in running text, found by linkify-it. Chinese text needs
    help: a URL glued to the character before it is not seen, and one
    followed by full-width punctuation runs on into it (and into the next
    URL), so that punctuation becomes a space and a glued URL gets one."""
    text = GLUED_URL.sub(" ", CJK_PUNCTUATION.sub(" ", text))
    for match in MARKDOWN.linkify.match(text) or ():
        # only what is written as a URL: "Amazon.com Inc." is a name, not a
        # page, and "name@example.com" an address, not a mailto: link
        written = match.raw.lower()
        if (match.schema and written.startswith(match.schema.lower())) or written.startswith("www."):
            yield MARKDOWN.normalizeLink(match.url.rstrip("*_~"))


def _append_once(items: list[str], url: str) -> None:
    if url not in items:
        items.append(url)


def iter_seed_files(seeds_dir: str | Path) -> list[Path]:
    """Seed files in name order; raises if the folder does not exist."""
    folder = Path(seeds_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"seed folder not found: {folder}")
    root = folder.resolve()
    found = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in SEED_SUFFIXES or (path.is_dir() and not path.is_symlink()):
            continue
        why = _not_a_seed_file(path, root)
        if why:
            logger.warning("seed skipped: %s: %s", seed_name(path), why)
        else:
            found.append(path)
    return found


def _not_a_seed_file(path: Path, root: Path) -> str | None:
    """Why a seed-named entry is not read: a link out of the folder (a seed
    folder must not make the crawler read /etc/passwd), not a regular file
    (a FIFO would block, a device never end), too big."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        return f"a dangling or looping link ({exc})"
    if path.is_symlink() and root not in target.parents:
        return f"a link to {target}, outside the seed folder"
    if not target.is_file():
        return "not a regular file"
    if target.stat().st_size > SEED_MAX_BYTES:
        return f"{target.stat().st_size} bytes, more than a seed may have ({SEED_MAX_BYTES})"
    return None


def seed_name(path: Path) -> str:
    """The file name as text: a name that is not UTF-8 keeps its readable part."""
    return path.name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def decode_seed(data: bytes, name: str) -> str:
    """A seed's text: UTF-8 (a BOM allowed), UTF-16 with its BOM; other bytes
    that are not UTF-8 are replaced (and named), so one bad byte does not hide
    the seed's links; a link they touch is dropped."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        logger.warning("seed %s: not valid UTF-8 (%s at byte %d); read with the bad bytes replaced",
                       name, exc.reason, exc.start)
        return data.decode("utf-8-sig", errors="replace")


def read_seed(path: Path) -> Seed:
    """One seed file."""
    name = seed_name(path)
    return parse_seed(decode_seed(path.read_bytes(), name), name=name)


def load_seeds(seeds_dir: str | Path) -> list[Seed]:
    """Every seed in the folder that names something to crawl.

    Whatever goes wrong with one seed is logged with its name and why, and
    the seed skipped; every link dropped is logged with the seed's name.
    """
    seeds = []
    for path in iter_seed_files(seeds_dir):
        try:
            seed = read_seed(path)
        except Exception as exc:  # one seed, whatever is wrong with it, never stops the crawl
            logger.warning("seed skipped: %s: %s", seed_name(path), _describe(exc))
            continue
        if seed.front_matter_error:
            logger.warning("seed %s: front matter ignored (%s); its links are still crawled",
                           seed.name, seed.front_matter_error)
        for dropped in seed.dropped:
            logger.warning("seed %s: %s dropped: %s: %s", seed.name, dropped.kind, _shorten(dropped.url),
                           dropped.reason)
        if not seed.urls:
            logger.warning("seed skipped: %s: no source link or reference to crawl", seed.name)
            continue
        seeds.append(seed)
    return seeds


def _shorten(url: str, limit: int = 120) -> str:
    """A link for the log: ``data:`` URLs can run to megabytes."""
    return url if len(url) <= limit else url[:limit] + f"... ({len(url)} characters)"
