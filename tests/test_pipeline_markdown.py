"""The Markdown pipeline on its own: names, versions, refusals, earlier names."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler.archive.storage import ArchiveStore
from crawler.core import markdown
from crawler.pipelines.markdown import MarkdownWriterPipeline, article_path, legacy_path

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



def test_a_move_to_the_canonical_name_stopped_between_its_two_renames_orphans_no_version(tmp_path):
    """The article and its versions move in two renames: a run stopped between
    them must leave what the next run finishes, never versions under a name no
    article has (history would no longer list them)."""
    item = article()
    old = legacy_path(item)
    store = ArchiveStore(tmp_path)
    store.write_text(old, markdown.render(item))
    store.write_text(f"versions/{old[len('articles/'):-3]}/20250101T000000Z.md", "an older copy")
    real = ArchiveStore.rename
    calls = []

    def first_rename_only(self, src, dst):
        calls.append(src)
        if len(calls) > 1:
            raise KeyboardInterrupt("killed between the two renames")
        return real(self, src, dst)

    ArchiveStore.rename = first_rename_only
    try:
        with pytest.raises(KeyboardInterrupt):
            pipeline(tmp_path).write(dict(item))
    finally:
        ArchiveStore.rename = real
    out = pipeline(tmp_path).write(dict(item))  # the next run
    assert out["path"] == article_path(item) and store.exists(article_path(item)) and not store.exists(old)
    assert store.exists(f"versions/{article_path(item)[len('articles/'):-3]}/20250101T000000Z.md")
    assert not store.exists(f"versions/{old[len('articles/'):-3]}")

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


def _capture(n: int) -> dict:
    return {"warc_file": "a.warc.gz", "record_id": f"<urn:uuid:{n}>", "date": f"2025-03-2{n}T00:30:00Z"}


def test_a_version_copy_left_by_an_interrupted_write_is_not_made_twice(tmp_path):
    store = ArchiveStore(tmp_path)
    first = pipeline(tmp_path).write(article())
    # a run killed after keeping the copy, before writing the new text
    store.keep_copy(first["path"], "versions/example/" + first["path"].rsplit("/", 1)[1][:-3]
                    + "/20250325T003000Z.md")
    changed = dict(article(text=TEXT.replace("Tuesday", "Wednesday")), capture=_capture(6))
    out = pipeline(tmp_path).write(changed)
    assert out["outcome"] == "updated"
    folder = tmp_path / "versions" / first["path"][len("articles/"):-3]
    assert [p.name for p in folder.iterdir()] == ["20250325T003000Z.md"]


def test_a_version_copy_never_replaces_a_file_of_its_name(tmp_path, monkeypatch):
    import os

    store = ArchiveStore(tmp_path)
    store.write_text("articles/x/a.md", "the current copy")
    store.write_text("versions/x/a/20250101T000000Z.md", "an older copy")

    def no_links(*args, **kwargs):
        raise PermissionError("this filesystem has no hard links")

    monkeypatch.setattr(os, "link", no_links)
    with pytest.raises(FileExistsError):
        store.keep_copy("articles/x/a.md", "versions/x/a/20250101T000000Z.md")
    assert store.read_text("versions/x/a/20250101T000000Z.md") == "an older copy"


def test_a_text_equal_to_an_earlier_version_is_named_a_revert(tmp_path):
    writer = pipeline(tmp_path)
    first = writer.write(dict(article(), capture=_capture(1)))
    second = writer.write(dict(article(text=TEXT.replace("Tuesday", "Wednesday")), capture=_capture(2)))
    assert second["outcome"] == "updated" and second["change"]["reverted_to"] is None
    third = writer.write(dict(article(), capture=_capture(3)))
    assert third["outcome"] == "updated"
    assert third["change"]["reverted_to"] == second["change"]["previous_version"]
    assert first["path"] == third["path"]


def test_version_names_read_back_in_every_form_the_pipeline_writes():
    from datetime import datetime, timezone

    from crawler.archive.versions import stamp_time
    from crawler.exports.hugo import capture_label
    from crawler.pipelines.markdown import _now_stamp, capture_stamp

    assert capture_label({}, capture_stamp({"warc_date": "2025-02-13T17:15:08Z"})) == "before 2025-02-13 17:15:08 UTC"
    assert capture_label({}, "20250213T171508Z-1") == "before 2025-02-13 17:15:08 UTC"
    now = stamp_time(_now_stamp())
    assert now is not None and abs((datetime.now(timezone.utc) - now).total_seconds()) < 60
