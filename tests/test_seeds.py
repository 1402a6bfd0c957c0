"""The seed reader: three seed shapes, named skips, never a stop."""

import logging
import re

import pytest

from crawler.seeds import DroppedLink, LinkError, load_seeds, parse_seed, web_url
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


def test_front_matter_that_does_not_load_is_ignored_and_the_body_still_read():
    seed = parse_seed("---\n: : [\n---\n\nbody\n\n[qq](https://new.qq.com/rain/a/20250101A00AAA00)\n", "x.md")
    assert seed.metadata == {}
    assert seed.front_matter_error.startswith("ParserError: ")
    assert seed.source_url == "https://new.qq.com/rain/a/20250101A00AAA00"


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


QQ_LINK = "[qq](https://new.qq.com/rain/a/20250213A06E5300)"
HUGO = '---\ntitle: "t"\n{}\nthumbnail: "https://inews.gtimg.com/om_ls/Cover_640360/0"\n---\n\n正文。\n\n{}\n'


def test_hostile_seeds_cost_only_their_front_matter_or_themselves(tmp_path, caplog, monkeypatch):
    """Every way one seed can go wrong, side by side: the others are all read,
    a seed with a readable body keeps its links, and each one is named with why."""
    files = {
        "010_bad_date.md": HUGO.format("date: 2025-02-30", QQ_LINK),
        "011_bad_float.md": HUGO.format("ratio: !!float abc", "[ref](https://e.example/011)"),
        "012_bad_binary.md": HUGO.format('blob: !!binary "a"', "[ref](https://e.example/012)"),
        "013_python_tag.md": HUGO.format('x: !!python/object/apply:os.system ["true"]', "[ref](https://e.example/013)"),
        "014_too_deep.md": HUGO.format("x: " + "[" * 5000 + "]" * 5000, "[ref](https://e.example/014)"),
        "015_list.md": "---\n- a\n- b\n---\n\n[ref](https://e.example/015)\n",
        "016_bad_syntax.md": HUGO.format('title: "unclosed', "[ref](https://e.example/016)"),
        "017_nothing_left.md": HUGO.format("date: 2025-13-01", "正文没有链接。"),
        "018_boom.md": "BOOM [ref](https://e.example/018)\n",
        "020_good.md": HUGO.format('date: "2025-02-13 17:15:08"', "[qq](https://new.qq.com/rain/a/20250210A05NRE00)"),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "019_bad_utf8.txt").write_bytes(
        b'---\ntitle: "t"\nauthor: \xff\n---\n\n[ref](https://e.example/019) [bad](https://e.example/\xfe)\n')
    (tmp_path / "021_bom.md").write_bytes(b"\xef\xbb\xbf" + HUGO.format("x: 1", "[ref](https://e.example/021)").encode())
    (tmp_path / "022_folder.md").mkdir()

    import crawler.seeds as seeds_module
    real_links = seeds_module._links

    def links(text):  # any exception at all, from anywhere in reading one seed
        if "BOOM" in text:
            raise RuntimeError("boom")
        return real_links(text)

    monkeypatch.setattr(seeds_module, "_links", links)
    with caplog.at_level(logging.WARNING, logger="crawler.seeds"):
        seeds = {s.name: s for s in load_seeds(tmp_path)}

    assert list(seeds) == ["010_bad_date.md", "011_bad_float.md", "012_bad_binary.md", "013_python_tag.md",
                           "014_too_deep.md", "015_list.md", "016_bad_syntax.md", "019_bad_utf8.txt",
                           "020_good.md", "021_bom.md"]
    assert seeds["010_bad_date.md"].urls == ["https://new.qq.com/rain/a/20250213A06E5300"]
    for number in ("011", "012", "013", "014", "015", "016"):
        seed = next(s for s in seeds.values() if s.name.startswith(number))
        assert seed.urls == [f"https://e.example/{number}"] and seed.metadata == {}
    assert seeds["020_good.md"].metadata["title"] == "t"
    assert seeds["020_good.md"].urls == ["https://new.qq.com/rain/a/20250210A05NRE00"]
    # a byte-order mark hides no front matter: its keys are read, its thumbnail is no reference
    assert seeds["021_bom.md"].metadata["x"] == 1 and seeds["021_bom.md"].urls == ["https://e.example/021"]
    # a bad byte costs only the link it sits in
    assert seeds["019_bad_utf8.txt"].urls == ["https://e.example/019"]
    assert [d.malformed for d in seeds["019_bad_utf8.txt"].dropped] == [True]

    lines = [r.getMessage() for r in caplog.records]

    def said(name, *words):
        return any(name in line and all(w in line for w in words) for line in lines)

    assert said("010_bad_date.md", "front matter ignored", "day is out of range for month", "still crawled")
    assert said("011_bad_float.md", "front matter ignored", "ValueError")
    assert said("012_bad_binary.md", "front matter ignored", "ConstructorError", "base64")
    assert said("013_python_tag.md", "front matter ignored", "ConstructorError", "python/object")
    assert said("014_too_deep.md", "front matter ignored")  # RecursionError or a nesting limit
    assert said("015_list.md", "front matter ignored", "not a mapping")
    assert said("016_bad_syntax.md", "front matter ignored")
    assert said("017_nothing_left.md", "front matter ignored") and said("017_nothing_left.md", "seed skipped",
                                                                        "no source link")
    assert said("018_boom.md", "seed skipped", "RuntimeError: boom")
    assert said("019_bad_utf8.txt", "not valid UTF-8", "replaced")
    assert said("019_bad_utf8.txt", "link dropped", "https://e.example/\ufffd", "undecodable")
    assert not any("020_good.md" in line or "021_bom.md" in line or "022_folder" in line for line in lines)


LINKS = """### 参考资料
- [js](javascript:alert(1))
- [data](data:text/plain,hello)
- [file](file:///etc/passwd)
- [mail](mailto:a@example.com)
- [ftp](ftp://ftp.example.com/pub/x)
- [rel](../other/page.html) and [frag](#section) and [empty]()
- [no host](http://) [port](https://example.com:99999/x) [v6](<http://[::1/x>) [host](<https://exa mple.com/x>)
- ![img](data:image/png;base64,iVBORw0KGgo=) ![img rel](images/a.png)
- <javascript:alert(2)>, bare ftp://ftp.example.org/y and mailto:b@example.com
- the same again: [js](javascript:alert(1)) ![img](images/a.png)
- write to c@example.com: an address in prose, not a link
- [kept](https://e.example/kept)
"""


def test_every_dropped_link_is_named_once_with_why(tmp_path, caplog):
    seed = parse_seed(LINKS, "links.md")
    assert seed.references == ["https://e.example/kept"]
    assert seed.images == []
    assert seed.dropped == [
        DroppedLink("javascript:alert(1)", "link", "not a web address (javascript:)", False),
        DroppedLink("data:text/plain,hello", "link", "not a web address (data:)", False),
        DroppedLink("file:///etc/passwd", "link", "not a web address (file:)", False),
        DroppedLink("mailto:a@example.com", "link", "not a web address (mailto:)", False),
        DroppedLink("ftp://ftp.example.com/pub/x", "link", "not a web address (ftp:)", False),
        DroppedLink("../other/page.html", "link", "relative link, with no site to fetch it from", False),
        DroppedLink("#section", "link", "relative link, with no site to fetch it from", False),
        DroppedLink("", "link", "empty link", False),
        DroppedLink("http://", "link", "malformed URL: no host", True),
        DroppedLink("https://example.com:99999/x", "link", "malformed URL: Port out of range 0-65535", True),
        DroppedLink("http://[::1/x", "link", "malformed URL: Invalid IPv6 URL", True),
        DroppedLink("https://exa mple.com/x", "link", "malformed URL: bad host 'exa mple.com'", True),
        DroppedLink("data:image/png;base64,iVBORw0KGgo=", "image", "not a web address (data:)", False),
        DroppedLink("images/a.png", "image", "relative link, with no site to fetch it from", False),
        DroppedLink("javascript:alert(2)", "link", "not a web address (javascript:)", False),
        DroppedLink("ftp://ftp.example.org/y", "link", "not a web address (ftp:)", False),
        DroppedLink("mailto:b@example.com", "link", "not a web address (mailto:)", False),
    ]
    (tmp_path / "links.md").write_text(LINKS, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="crawler.seeds"):
        load_seeds(tmp_path)
    lines = [r.getMessage() for r in caplog.records]
    for dropped in seed.dropped:
        named = [line for line in lines if f"dropped: {dropped.url}: {dropped.reason}" in line]
        assert len(named) == 1 and named[0].startswith(f"seed links.md: {dropped.kind} dropped"), dropped
    assert len(lines) == len(seed.dropped)


def test_a_long_data_url_is_named_short(tmp_path, caplog):
    url = "data:image/png;base64," + "A" * 100_000
    (tmp_path / "big.md").write_text(f"![x]({url})\n\n[ref](https://e.example/a)\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="crawler.seeds"):
        assert load_seeds(tmp_path)[0].dropped[0].url == url
    [line] = [r.getMessage() for r in caplog.records]
    assert line.startswith("seed big.md: image dropped: data:image/png;base64,AAA")
    assert f"... ({len(url)} characters): not a web address (data:)" in line and len(line) < 250


def test_valid_spellings_of_web_urls_are_kept():
    text = """- [a](HTTP://Example.COM/x) [b](//cdn.example.com/path?q=1) [c](< https://e.example/spaced >)
- <HTTPS://WWW.Example.org/A> [d](<https://e.example/a b>) [idn](https://例子.测试/路径) [r]
- bare HTTP://UP.example.com/Path and //proto.example.com/p here
- ![i](//img.example.com/i.png) ![j]( <HTTPS://IMG.example.com/J.png> )

[r]: <https://Ref.Example.com/z>

[qq](HTTP://New.QQ.com/rain/a/20250101A00AAA00)
"""
    seed = parse_seed(text, "spellings.md")
    assert seed.source_url == "http://new.qq.com/rain/a/20250101A00AAA00"
    assert seed.references == [
        "http://example.com/x", "https://cdn.example.com/path?q=1", "https://e.example/spaced",
        "https://www.example.org/A", "https://e.example/a%20b",
        "https://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84", "https://ref.example.com/z",
        "http://up.example.com/Path", "https://proto.example.com/p",
    ]
    assert seed.images == ["https://img.example.com/i.png", "https://img.example.com/J.png"]
    assert seed.dropped == []


@pytest.mark.parametrize("link,expected", [
    ("https://e.example/x", "https://e.example/x"),
    ("  <HTTPS://E.Example:8443/X?Q=1#F>  ", "https://e.example:8443/X?Q=1#F"),
    ("//e.example/x", "https://e.example/x"),
    ("http://[2001:db8::1]/x", "http://[2001:db8::1]/x"),
    ("https://under_score.example.com/", "https://under_score.example.com/"),
    ("https://例子.测试/", "https://xn--fsqu00a.xn--0zwm56d/"),
])
def test_web_url_spellings(link, expected):
    assert web_url(link) == expected


@pytest.mark.parametrize("link,reason,malformed", [
    ("", "empty link", False),
    ("< >", "empty link", False),
    ("/x", "relative link", False),
    ("www.example.com/x", "relative link", False),
    ("JavaScript:alert(1)", "not a web address (javascript:)", False),
    ("tel:+861012345678", "not a web address (tel:)", False),
    ("https:///x", "malformed URL: no host", True),
    ("https://-bad.example/", "malformed URL: bad host", True),
    ("https://a..b/", "malformed URL: bad host", True),
    ("https://e.example:port/", "malformed URL: Port could not be cast", True),
    ("https://e.example/\ufffd", "malformed URL: undecodable", True),
    ("https://e.example/%EF%BF%BD", "malformed URL: undecodable", True),
])
def test_web_url_refusals(link, reason, malformed):
    with pytest.raises(LinkError, match=re.escape(reason)) as caught:
        web_url(link)
    assert caught.value.malformed is malformed


def test_seed_files_that_are_not_seeds_are_named_and_skipped(tmp_path, caplog):
    """A link out of the folder is never read (it could be /etc/passwd), nor a
    FIFO (it would block), nor a file too big to be a document; UTF-16 with its
    BOM is read; a file name that is not UTF-8 keeps a readable name."""
    import os

    from crawler.seeds import SEED_MAX_BYTES

    outside = tmp_path / "outside.txt"
    outside.write_text("[qq](https://new.qq.com/rain/a/20250213A06E5300)\n")
    folder = tmp_path / "seeds"
    folder.mkdir()
    (folder / "001_link.md").symlink_to(outside)
    os.mkfifo(folder / "002_fifo.md")
    (folder / "003_big.md").write_bytes(b"[x](https://e.example/big)\n" + b" " * SEED_MAX_BYTES)
    (folder / "004_utf16.md").write_bytes("- [a](https://e.example/utf16)\n".encode("utf-16"))
    (folder / "005_dangling.md").symlink_to(tmp_path / "missing.md")
    os.symlink(b"x", os.fsencode(folder) + b"/006_name_\xff.md")  # dangling, with a non-UTF-8 name
    (folder / "007_inside.md").symlink_to(folder / "004_utf16.md")
    with caplog.at_level(logging.WARNING, logger="crawler.seeds"):
        seeds = {s.name: s for s in load_seeds(folder)}
    assert sorted(seeds) == ["004_utf16.md", "007_inside.md"]
    assert seeds["004_utf16.md"].urls == ["https://e.example/utf16"]
    lines = "\n".join(r.getMessage() for r in caplog.records)
    assert f"001_link.md: a link to {outside}, outside the seed folder" in lines
    assert "002_fifo.md: not a regular file" in lines
    assert "003_big.md:" in lines and "more than a seed may have" in lines
    assert "005_dangling.md: a dangling or looping link" in lines
    assert "006_name_\ufffd.md: a dangling or looping link" in lines
