"""Seed-format Markdown: rendering reproduces the seeds byte for byte."""

import re

import pytest

from crawler.core import markdown
from tests.conftest import SEEDS

QQ = ["000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt", "004_0f7ec6953a63be2f.txt"]


def article_from_seed(text, first_paragraph_prefix=""):
    meta, paragraphs = markdown.parse(text)
    source = re.fullmatch(r"\[qq\]\((.+)\)", paragraphs[-1]).group(1)
    blocks = []
    for index, p in enumerate(paragraphs[:-1]):
        image = re.fullmatch(r"!\[图片\]\((.+)\)", p)
        if image:
            blocks.append({"type": "image", "src": image.group(1)})
        else:
            raw = (first_paragraph_prefix if not blocks else "") + p.replace("**", "")
            blocks.append({"type": "text", "markdown": p, "text": raw})
    return meta, dict(site="qq", title=meta["title"], date=meta["date"], thumbnail=meta["thumbnail"],
                      lang="zh-CN", blocks=blocks, source_url=source)


@pytest.mark.parametrize("name", QQ)
def test_render_reproduces_seed_bytes(name):
    text = (SEEDS / name).read_text(encoding="utf-8")
    # seed 001's summary is 49 characters: its page text starts with a space
    meta, article = article_from_seed(text, " " if name.startswith("001") else "")
    assert markdown.render(article) == text


def test_summary_is_first_50_characters_of_text():
    blocks = [{"type": "image", "src": "https://x/y.png"},
              {"type": "text", "markdown": "**甲**" + "乙" * 60, "text": "甲" + "乙" * 60}]
    assert markdown.summarize(blocks) == "甲" + "乙" * 49 + "..."


def test_capture_keys_come_after_seed_keys_and_are_ignored_for_comparison():
    text = (SEEDS / QQ[0]).read_text(encoding="utf-8")
    _, article = article_from_seed(text)
    article.update(url="https://news.qq.com/rain/a/x", extractor="qq:dom",
                   capture={"warc_file": "a.warc.gz", "record_id": "<urn:uuid:1>", "date": "2025-01-01T00:00:00Z"})
    rendered = markdown.render(article)
    meta, _ = markdown.parse(rendered)
    keys = list(meta)
    assert keys[: len(markdown.SEED_KEYS)] == list(markdown.SEED_KEYS)
    assert keys[len(markdown.SEED_KEYS):] == ["fetched_url", "warc_file", "warc_record_id", "warc_date", "extractor"]
    assert markdown.without_capture_keys(*markdown.parse(rendered)) == \
        markdown.without_capture_keys(*markdown.parse(text))


def test_quotes_and_odd_characters_survive_a_round_trip():
    article = dict(site="qq", title='He said "hi": a #1 story', date="2025-01-01 00:00:00", thumbnail="",
                   lang="zh-CN", source_url="https://new.qq.com/rain/a/1",
                   blocks=[{"type": "text", "markdown": "x" * 60, "text": "x" * 60}])
    meta, paragraphs = markdown.parse(markdown.render(article))
    assert meta["title"] == 'He said "hi": a #1 story'
    assert paragraphs == ["x" * 60, "[qq](https://new.qq.com/rain/a/1)"]


def test_the_fast_yaml_emitter_writes_the_same_bytes_as_pyyaml_own():
    """libyaml (with list items indented afterwards) against PyYAML's pure
    emitter: byte-identical front matter on hostile strings and on every
    seed's own values."""
    import random

    assert markdown.FastSeedDumper is not None  # PyYAML with libyaml, as on PyPI wheels
    rng = random.Random(7)
    alphabet = [chr(c) for c in [*range(0, 0x250), *range(0x2000, 0x2100), *range(0x3000, 0x3100),
                                 0x85, 0xfeff, 0xfffe, 0x1f600, 0x10ffff]]
    strings = ["标题", 'a "quote" \\ b', "tab\tx", "line\nbreak", "\u2028\u2029", "\x00\x07\x1b", "- dash",
               "#x", "a: b", " lead", "trail ", "", "long " * 500, "\r\n", "\ufeffbom", "😀 𝔘"]
    strings += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(1500)]
    for value in strings:
        article = {"title": value, "date": value, "site": value or "web", "lang": value, "thumbnail": value,
                   "source_url": "https://new.qq.com/rain/a/X", "url": value, "extractor": value,
                   "blocks": [{"type": "text", "markdown": "x", "text": value}]}
        assert markdown.render(article) == markdown.render(article, pure=True), repr(value)
