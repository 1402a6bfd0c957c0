"""The Markdown pipeline on its own: names, versions, refusals, earlier names."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler import markdown
from crawler.pipelines.markdown import MarkdownWriterPipeline, article_path, legacy_path
from crawler.storage import ArchiveStore

TEXT = "The council approved the new bridge on Tuesday after a long debate about its cost. " * 3


def article(url="https://news.example/2025/story.html?utm_source=x", text=TEXT, date="2025-03-25 08:30:00"):
    return dict(site="example", article_id=None, title="Bridge", date=date, thumbnail="", lang="en",
                source_url=url, url=url, blocks=[{"type": "text", "markdown": text, "text": text}],
                capture={"warc_file": "a.warc.gz", "record_id": "<urn:uuid:1>", "date": "2025-03-25T00:30:00Z"})


def pipeline(root):
    return MarkdownWriterPipeline(ArchiveStore(root), min_chars=40, min_ratio=0.5)


def test_spellings_of_one_url_share_one_file():
    a = article("https://news.example/2025/story.html")
    b = article("https://News.Example/2025/story.html?utm_source=x&fbclid=1#comments")
    assert article_path(a) == article_path(b)


def test_an_article_under_its_earlier_name_moves_once_with_its_versions(tmp_path):
    item = article()
    old = legacy_path(item)
    assert old and old != article_path(item)
    store = ArchiveStore(tmp_path)
    store.write_text(old, markdown.render(item))
    store.write_text(f"versions/{old[len('articles/'):-3]}/20250101T000000Z.md", "an older copy")
    out = pipeline(tmp_path).write(dict(item))
    assert out["outcome"] == "unchanged" and out["path"] == article_path(item)
    assert not store.exists(old) and store.exists(article_path(item))
    assert store.exists(f"versions/{article_path(item)[len('articles/'):-3]}/20250101T000000Z.md")


def test_a_refused_extraction_moves_nothing(tmp_path):
    item = article()
    old = legacy_path(item)
    store = ArchiveStore(tmp_path)
    store.write_text(old, markdown.render(item))
    short = article(text="Too short now, but more than forty characters.")
    with pytest.raises(DropItem, match="much shorter than the stored copy"):
        pipeline(tmp_path).write(short)
    assert store.exists(old) and not store.exists(article_path(item))


def test_a_changed_article_keeps_its_copy_named_by_its_capture_time(tmp_path):
    store = ArchiveStore(tmp_path)
    first = pipeline(tmp_path).write(article())
    assert first["outcome"] == "archived"
    before = store.read_bytes(first["path"])
    changed = article(text=TEXT.replace("Tuesday", "Wednesday"))
    changed["capture"] = {"warc_file": "b.warc.gz", "record_id": "<urn:uuid:2>", "date": "2025-04-01T00:00:00Z"}
    out = pipeline(tmp_path).write(changed)
    assert out["outcome"] == "updated"
    version = out["change"]["previous_version"]
    assert version.endswith("/20250325T003000Z.md")
    assert store.read_bytes(version) == before
    assert out["change"]["previous_record_id"] == "<urn:uuid:1>"
