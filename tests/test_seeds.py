"""The seed reader: three seed shapes, named skips, never a stop."""

import logging

import pytest

from crawler.seeds import SeedError, load_seeds, parse_seed
from tests.conftest import SEEDS


def test_every_shape_of_the_shipped_seeds():
    seeds = {s.name: s for s in load_seeds(SEEDS)}
    assert set(seeds) == {
        "000_916c35625ed2f8d3.txt", "001_7e5bc8a25ec71449.txt",
        "003_ad2d495deceb3492.txt", "004_0f7ec6953a63be2f.txt",
    }
    hugo = seeds["000_916c35625ed2f8d3.txt"]
    assert hugo.source_url == "https://new.qq.com/rain/a/20250213A06E5300"
    assert hugo.references == []
    assert len(hugo.images) == 4 and all(u.startswith("https://inews.gtimg.com/om_bt/") for u in hugo.images)
    assert hugo.metadata["title"] == "马斯克、蔡崇信亮相迪拜WGS大会 接力发布AI大消息"

    note = seeds["003_ad2d495deceb3492.txt"]
    assert note.source_url is None
    assert note.metadata["layout"] == "post"
    assert note.references[0] == "https://www.itiger.com/news/1199643973"
    assert note.references[-1] == "https://x.com/wallstengine/status/1904438237554515976"
    assert len(note.references) == 6


def test_seed_without_url_is_named_and_skipped(caplog):
    with caplog.at_level(logging.WARNING):
        names = [s.name for s in load_seeds(SEEDS)]
    assert "002_506cf2e3bbd555df.txt" not in names
    assert "002_506cf2e3bbd555df.txt" in caplog.text and "no source link" in caplog.text
    # the plain-Markdown seed still parses: it has images, just nothing to crawl
    seed = parse_seed((SEEDS / "002_506cf2e3bbd555df.txt").read_text(encoding="utf-8"), "002")
    assert seed.urls == [] and len(seed.images) == 1


def test_broken_seeds_are_reported_and_the_rest_goes_on(tmp_path, caplog):
    (tmp_path / "a_bad_yaml.md").write_text("---\ntitle: [unclosed\n---\n\nbody\n", encoding="utf-8")
    (tmp_path / "b_bad_encoding.txt").write_bytes(b"---\ntitle: \xff\xfe\n---\n")
    (tmp_path / "c_good.md").write_text("text\n\n[qq](https://new.qq.com/rain/a/20250101A00AAA00)\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        seeds = load_seeds(tmp_path)
    assert [s.name for s in seeds] == ["c_good.md"]
    assert "a_bad_yaml.md" in caplog.text and "b_bad_encoding.txt" in caplog.text


def test_parse_errors_raise_with_the_name():
    with pytest.raises(SeedError, match="x.md"):
        parse_seed("---\n: : [\n---\n", "x.md")


def test_missing_seed_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="seed folder not found"):
        load_seeds(tmp_path / "nope")


def test_every_kind_of_markdown_link_is_a_reference():
    text = """### 参考资料
- [with parens](https://en.wikipedia.org/wiki/Joe_Tsai_(businessman))
- [with title](https://example.com/a "Title")
- [by reference][r]
- <https://auto.example/x>
- a bare https://bare.example/y?q=1 link
- ![an image](https://img.example/i.png)
- [not the web](mailto:someone@example.com)

[r]: https://ref.example/z
"""
    seed = parse_seed(text, "links.md")
    assert seed.references == [
        "https://en.wikipedia.org/wiki/Joe_Tsai_(businessman)",
        "https://example.com/a",
        "https://ref.example/z",
        "https://auto.example/x",
        "https://bare.example/y?q=1",
    ]
    assert seed.images == ["https://img.example/i.png"]
    assert seed.source_url is None


def test_bare_urls_in_chinese_text_stop_at_full_width_punctuation():
    seed = parse_seed("据报道https://e.com/a/x-2025-02-13/，另见https://e.com/b。（来源：https://e.com/c）\n", "zh.md")
    assert seed.references == ["https://e.com/a/x-2025-02-13/", "https://e.com/b", "https://e.com/c"]


def test_source_link_reads_like_the_same_link_elsewhere():
    text = "见[原文](https://new.qq.com/rain/a/X?a=1&amp;b=2)\n\n[qq](https://new.qq.com/rain/a/X?a=1&amp;b=2)\n"
    seed = parse_seed(text, "s.md")
    assert seed.source_url == "https://new.qq.com/rain/a/X?a=1&b=2"
    assert seed.references == []


@pytest.mark.parametrize("text,expected", [
    ("see https://example.com/a%20b/c here", ["https://example.com/a%20b/c"]),
    ("维基 https://zh.wikipedia.org/wiki/%E8%94%A1%E5%B4%87%E4%BF%A1%EF%BC%88x%EF%BC%89 条目",
     ["https://zh.wikipedia.org/wiki/%E8%94%A1%E5%B4%87%E4%BF%A1%EF%BC%88x%EF%BC%89"]),
    ("q https://e.com/s?a=%E2%80%9Cx%E2%80%9D end", ["https://e.com/s?a=%E2%80%9Cx%E2%80%9D"]),
    ("见 www.example.com/news/1 报道", ["http://www.example.com/news/1"]),
    ("a https://e.com/x_y&amp;z=1 and [l](https://a.b/c) then https://d.e/f.", [
        "https://e.com/x_y&z=1", "https://a.b/c", "https://d.e/f"]),
])
def test_bare_urls_keep_their_escapes(text, expected):
    assert parse_seed(text + "\n", "s.md").references == expected


def test_an_indented_source_link_is_still_the_source():
    seed = parse_seed("body\n\n    [qq](https://new.qq.com/rain/a/20250101A00AAA00)\n", "s.md")
    assert seed.source_url == "https://new.qq.com/rain/a/20250101A00AAA00"


@pytest.mark.parametrize("text,expected", [
    ("Amazon.com Inc. and Character.AI; see README.md, 阿里巴巴旗下 Alibaba.com 与 x.ai。", []),
    ("code at https://github.com/python/cpython/blob/main/Lib/__init__.py today",
     ["https://github.com/python/cpython/blob/main/Lib/__init__.py"]),
    ("see https://e.com/_next/static_/x now", ["https://e.com/_next/static_/x"]),
    ("见**https://e.com/bold**报道", ["https://e.com/bold"]),
    ("__https://e.com/strong__", ["https://e.com/strong"]),
    ("原文https://e.com/a——另见", ["https://e.com/a"]),
    ("`https://e.com/code` is code", []),
])
def test_what_counts_as_a_bare_url(text, expected):
    assert parse_seed(text + "\n", "s.md").references == expected
