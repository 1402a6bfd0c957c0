"""Article -> seed-format Markdown, and back.

The format is the one of the ``new.qq.com`` seeds: YAML front matter with a
fixed key order and quoting (every string double-quoted, list items indented
as ``  - "qq"``, booleans bare), then the body paragraphs separated by blank
lines, ``**bold**`` kept, images in place as ``![图片](url)``, and a last line
``[site](source url)``. Keys of the crawler's own (where the capture lives)
come after the seed keys.
"""

from __future__ import annotations

import logging
import re

import frontmatter
import yaml

logger = logging.getLogger(__name__)
SUMMARY_CHARS = 50
IMAGE_ALT = "图片"

#: Seed keys in seed order; values that are the same for every article.
SEED_KEYS = (
    "title", "date", "summary", "categories", "lang", "translations", "tags",
    "menu", "thumbnail", "lead", "comments", "authorbox", "pager", "toc",
    "mathjax", "sidebar", "widgets",
)
FIXED_VALUES = {
    "menu": "",
    "lead": "",
    "comments": False,
    "authorbox": False,
    "pager": True,
    "toc": False,
    "mathjax": False,
    "sidebar": "right",
    "widgets": ["search", "recent", "taglist"],
}
#: The crawler's own keys, after the seed keys; they change with every capture.
#: None of them is a key Hugo reserves (``url``, ``slug``, ``lastmod``, ``type``,
#: ``layout``, ``aliases``...): Hugo refuses a whole site over ``url: https://...``.
CAPTURE_KEYS = ("fetched_url", "warc_file", "warc_record_id", "warc_date", "extractor")
#: Keys earlier versions wrote in CAPTURE_KEYS' place: not part of the article.
LEGACY_CAPTURE_KEYS = ("url",)


class QuotedStr(str):
    """A string value the seed style writes double-quoted (keys stay bare)."""


class SeedDumper(yaml.SafeDumper):
    """PyYAML dumper for the seed style: quoted values, indented lists."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def _quoted_str(dumper, value):
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


SeedDumper.add_representer(QuotedStr, _quoted_str)

if getattr(yaml, "__with_libyaml__", False):
    class FastSeedDumper(yaml.CSafeDumper):
        """libyaml's emitter, about 3 times faster; it writes block lists
        unindented (``- "qq"``), which ``SeedYAMLHandler`` indents. The
        bytes equal SeedDumper's (tests/test_markdown.py checks a corpus of
        hostile strings)."""

    FastSeedDumper.add_representer(QuotedStr, _quoted_str)
else:  # pragma: no cover - PyYAML built without libyaml
    FastSeedDumper = None

LIST_ITEM = re.compile(r"(?m)^- ")


class SeedYAMLHandler(frontmatter.YAMLHandler):
    """Front matter in the seed style, with libyaml where PyYAML has it."""

    def export(self, metadata, **kwargs):
        options = {"sort_keys": False, "allow_unicode": True, "width": 1 << 30}
        if FastSeedDumper is not None and not kwargs.get("pure"):
            # values are always double-quoted, so a line starting "- " is a list item
            return LIST_ITEM.sub("  - ", yaml.dump(metadata, Dumper=FastSeedDumper, **options)).strip()
        return yaml.dump(metadata, Dumper=SeedDumper, **options).strip()


def _quote_values(value):
    if isinstance(value, str):
        return QuotedStr(value)
    if isinstance(value, list):
        return [_quote_values(v) for v in value]
    if isinstance(value, dict):
        return {k: _quote_values(v) for k, v in value.items()}
    return value


def summarize(blocks) -> str:
    """The first 50 characters of the article's plain text, then ``...``.

    Counted on the text as the page has it (before white space is trimmed
    and collapsed), then tidied: seed 001's 49-character summary shows it. The page's own abstract
    is not used: on every seed the summary is the body's opening, even where
    that opening is a photo credit no editor would write as an abstract.
    """
    return re.sub(r"\s+", " ", plain_text(blocks)[:SUMMARY_CHARS]).strip() + "..."


def front_matter(article) -> dict:
    """The ordered front-matter mapping for an article."""
    site = article.get("site") or "web"
    lang = article.get("lang") or "zh-CN"
    meta = {
        "title": article.get("title") or "",
        "date": article.get("date") or "",
        "summary": summarize(article.get("blocks") or []),
        "categories": [site],
        "lang": [lang],
        "translations": [lang],
        "tags": [site],
        "menu": "",
        "thumbnail": article.get("thumbnail") or "",
    }
    for key in SEED_KEYS:
        if key not in meta:
            meta[key] = FIXED_VALUES[key]
    capture = article.get("capture") or {}
    own = {
        "fetched_url": article.get("url"),
        "warc_file": capture.get("warc_file"),
        "warc_record_id": capture.get("record_id"),
        "warc_date": capture.get("date"),
        "extractor": article.get("extractor"),
    }
    meta.update({k: v for k, v in own.items() if v})
    return meta


#: Hugo reads ``{{<`` and ``{{%`` in content as shortcode calls: an article
#: quoting them would make Hugo refuse the whole site.
SHORTCODE_OPENER = re.compile(r"\{(?=\{[<%])")


def escape_shortcodes(text: str) -> str:
    """``{{<`` / ``{{%`` written with their first brace as ``&#123;``, which
    Markdown shows as ``{``: the article reads the same, Hugo sees no shortcode."""
    return SHORTCODE_OPENER.sub("&#123;", text)


#: The source link, the body's last line: ``[site](source url)``.
SOURCE_LINK = re.compile(r"^\[(?P<site>[^\]]+)\]\((?P<url>[^)\s]+)\)$")
#: An image paragraph, ``![alt](url)``.
IMAGE_LINE = re.compile(r"^!\[(?P<alt>[^\]]*)\]\((?P<url>\S+?)\)$")


def render_body(article) -> str:
    """Body paragraphs, blank-line separated, ending with the source link."""
    parts = []
    for block in article.get("blocks") or []:
        if block["type"] == "image":
            parts.append(f"![{IMAGE_ALT}]({block['src']})")
        else:
            parts.append(escape_shortcodes(block["markdown"]))
    # the archived article's own source link (the state's), else the seed URL
    parts.append(f"[{article.get('site') or 'web'}]({article.get('source_link') or article['source_url']})")
    return "\n\n".join(parts)


HANDLER = SeedYAMLHandler()


def render(article, pure: bool = False) -> str:
    """The whole Markdown document for an article (``pure``: PyYAML's own
    emitter, the reference the fast one is checked against)."""
    post = frontmatter.Post(render_body(article), handler=HANDLER, **_quote_values(front_matter(article)))
    return frontmatter.dumps(post, pure=pure) + "\n"


def parse(text: str) -> tuple[dict, list[str]]:
    """Parse a Markdown document back: (front matter, body paragraphs)."""
    post = frontmatter.loads(text)
    paragraphs = re.split(r"\n\n", post.content.strip("\n")) if post.content.strip() else []
    return dict(post.metadata), paragraphs


def parse_or_empty(text: str, name) -> tuple[dict, list[str]]:
    """``parse``, or ``({}, [])`` with a warning naming ``name`` when the front
    matter cannot be read: a copy damaged by hand or by disk is still listed."""
    try:
        return parse(text)
    except Exception as exc:
        logger.warning("%s: unreadable front matter (%s)", name, exc)
        return {}, []


def without_capture_keys(meta: dict, paragraphs: list[str]) -> tuple[dict, list[str]]:
    """A parsed document without the capture keys: what must be equal for
    two captures to count as the same article version."""
    own = CAPTURE_KEYS + LEGACY_CAPTURE_KEYS
    return {k: v for k, v in meta.items() if k not in own}, paragraphs


def plain_text(blocks) -> str:
    """The article's text, paragraphs joined with nothing between them."""
    return "".join(b["text"] for b in blocks if b.get("type") == "text")
