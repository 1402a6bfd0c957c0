"""Read seed documents and find what to crawl in them.

Seeds come in three shapes: Hugo-style front matter ending with a
``[qq](https://new.qq.com/rain/a/...)`` source link, a Jekyll-style note with a
reference list, and plain Markdown with no front matter at all. Each one
yields its source URL (if any), the pages it references and its images.
A seed that cannot be read, or that names nothing to crawl, is reported by
name and skipped, so one bad file never stops the crawl.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml
from markdown_it import MarkdownIt

logger = logging.getLogger(__name__)

#: CommonMark: inline, reference and autolinks come out as link tokens, with
#: titles and parentheses in URLs handled. Bare URLs are found in the text
#: between links with its linkify-it (see _bare_urls), not its linkify rule.
MARKDOWN = MarkdownIt("commonmark", {"linkify": True})
#: A bare URL written into Chinese text ends at CJK or full-width punctuation.
CJK_PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uffef\u2014\u2015\u00b7\u2018\u2019\u201c\u201d\u2026]")
#: A URL glued to a Chinese character or emphasis marks before it.
GLUED_URL = re.compile(r"(?:(?<=[^\s\x00-\x7f])|[*_~]+)(?=https?://|www\.)")
EMPHASIS = {"em_open", "em_close", "strong_open", "strong_close"}
#: The trailing source link of an archived article: ``[qq](https://...)``.
SOURCE_LINK_RE = re.compile(r"^\[(?P<site>[\w.-]+)\]\((?P<url>https?://[^)\s]+)\)\s*$")

SEED_SUFFIXES = (".md", ".markdown", ".txt")


class SeedError(ValueError):
    """A seed document that cannot be parsed."""


@dataclass
class Seed:
    """What one seed document asks the crawler to fetch."""

    name: str
    metadata: dict = field(default_factory=dict)
    source_url: str | None = None
    references: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        """Every page URL to archive, the source first."""
        return ([self.source_url] if self.source_url else []) + self.references


def parse_seed(text: str, name: str = "<seed>") -> Seed:
    """Parse one seed document's text.

    The source link is the last non-empty line when it has the
    ``[site](url)`` shape; every other non-image link is a reference.
    """
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise SeedError(f"{name}: front matter is not valid YAML: {exc}") from exc
    if not isinstance(post.metadata, dict):
        raise SeedError(f"{name}: front matter is not a mapping")
    body = post.content
    seed = Seed(name=name, metadata=dict(post.metadata))

    lines = [line for line in body.splitlines() if line.strip()]
    if lines and SOURCE_LINK_RE.match(lines[-1].strip()):
        # the URL as markdown-it reads it, so that it compares equal to the
        # same link anywhere else in the seed
        seed.source_url = next((url for kind, url in _links(lines[-1].strip()) if kind == "link"), None)

    for kind, url in _links(body):
        if not url.startswith(("http://", "https://")):
            continue
        if kind == "image":
            _append_once(seed.images, url)
        elif url != seed.source_url:
            _append_once(seed.references, url)
    return seed


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
        # only what is written as a URL: "Amazon.com Inc." is a name, not a page
        if match.schema or match.raw.lower().startswith("www."):
            yield MARKDOWN.normalizeLink(match.url.rstrip("*_~"))


def _append_once(items: list[str], url: str) -> None:
    if url not in items:
        items.append(url)


def iter_seed_files(seeds_dir: str | Path) -> list[Path]:
    """Seed files in name order; raises if the folder does not exist."""
    folder = Path(seeds_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"seed folder not found: {folder}")
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in SEED_SUFFIXES)


def load_seeds(seeds_dir: str | Path) -> list[Seed]:
    """Every seed in the folder that names something to crawl.

    Unreadable seeds and seeds without a URL are logged by name and skipped.
    """
    seeds = []
    for path in iter_seed_files(seeds_dir):
        try:
            text = path.read_text(encoding="utf-8")
            seed = parse_seed(text, name=path.name)
        except (UnicodeDecodeError, SeedError) as exc:
            logger.warning("seed skipped: %s: %s", path.name, exc)
            continue
        if not seed.urls:
            logger.warning("seed skipped: %s: no source link or reference to crawl", path.name)
            continue
        seeds.append(seed)
    return seeds
