"""The generic path: trafilatura's text, headline and chrome left out."""

from crawler.sites import generic
from tests.fixtures.qq_site import REFERENCE_TEXT, X_SHELL, reference_page


def test_body_is_the_article_text_without_comments_or_chrome():
    page = reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT)
    fields = generic.extract("https://finance.yahoo.com/news/x.html", page)
    paragraphs = [b["markdown"] for b in fields["blocks"]]
    assert paragraphs == REFERENCE_TEXT
    assert fields["title"] == "Alibaba's Joe Tsai says AI race has no winner"
    assert fields["date"] == "2025-03-25 08:30:00"
    assert fields["lang"] == "en"
    assert fields["site"] == "yahoo"
    assert fields["thumbnail"] == "https://static.example-news.test/cover.jpg"


def test_javascript_shell_comes_out_empty():
    fields = generic.extract("https://x.com/a/status/1", X_SHELL)
    assert sum(len(b["text"].strip()) for b in fields["blocks"]) < 40


def test_description_is_the_last_resort_for_a_page_without_body():
    text = "Alibaba chairman Joe Tsai warns of a bubble in AI data centre construction in the US, says demand is overestimated."
    page = X_SHELL.replace("<title>X</title>", f'<title>X</title><meta property="og:description" content="{text}">')
    fields = generic.extract("https://x.com/a/status/1", page)
    assert [b["markdown"] for b in fields["blocks"]] == [text]
    assert fields["extractor"] == "meta-description"


def test_deeply_nested_pages_still_give_their_text():
    text = "A paragraph of a news article buried very deep in layout markup, long enough to count. " * 4
    page = "<html><body>" + "<div>" * 300 + f"<article><p>{text}</p></article>" + "</div>" * 300 + "</body></html>"
    fields = generic.extract("https://example.org/deep", page)
    assert "buried very deep" in "".join(b["text"] for b in fields["blocks"])


def test_the_metadata_fields_read_are_trafilaturas_own():
    """generic._metadata skips what the archive does not keep (author,
    categories, tags, license), and the date is asked apart (_htmldate); the
    fields it reads stay trafilatura's."""
    import trafilatura
    from trafilatura.utils import load_html

    json_ld = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",'
               ' "headline": "A headline from JSON-LD", "datePublished": "2024-05-06T07:08:09Z",'
               ' "author": {"@type": "Person", "name": "Jane Reporter"}, "image": "https://img.example/a.jpg"}'
               '</script>')
    pages = [
        reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT),
        reference_page("A page with JSON-LD", REFERENCE_TEXT).replace("</head>", json_ld + "</head>"),
        X_SHELL,
        "<html lang='de'><head><title>Nur ein Titel | Zeitung</title></head><body><p>Kurz.</p>"
        "<footer><a rel='license' href='https://creativecommons.org/licenses/by/4.0/'>CC BY</a></footer></body></html>",
    ]
    for page in pages:
        ours = generic._metadata(load_html(page), "https://news.example/a.html")
        ours.date = generic._htmldate(load_html(page), ours.url)
        theirs = trafilatura.extract_metadata(page, default_url="https://news.example/a.html")
        for field in generic.METADATA_FIELDS:
            assert getattr(ours, field) == getattr(theirs, field), field


def test_a_view_counter_in_the_article_is_not_its_text():
    """A count that moves on every load must not be a paragraph (a refresh would
    call it an edit); a framework's class with the word in it is not a counter."""
    from crawler.sites.generic import extract

    def page(count: str, extra: str = "") -> str:
        return f"""<html lang="en"><head><title>Council votes</title></head><body><main><article>
<h1>Council votes</h1><p class="byline">By Jane Reporter</p><span class="post-views">{count}</span>
<p>The city council voted on Tuesday to approve the new budget after a long debate about public transport.</p>
<p>The mayor said the decision would allow the city to hire more bus drivers and extend night services.</p>
{extra}</article></main></body></html>"""

    def texts(html: str) -> list[str]:
        return [b["text"] for b in extract("https://www.example.com/news/1", html)["blocks"] if b["type"] == "text"]

    assert texts(page("1,234 views")) == texts(page("98,765 views")) == texts(page("阅读 5678"))
    assert not any("views" in t or "5678" in t for t in texts(page("1,234 views")) + texts(page("阅读 5678")))
    kept = '<div class="views-field">Views on the 2025 budget differed sharply between the two parties.</div>'
    assert any(t.startswith("Views on the 2025 budget") for t in texts(page("1 view", kept)))


def test_a_counter_word_is_found_in_one_look_at_the_whole_page():
    """drop_counters first asks all class and id values at once (most pages have
    no counter); that answer is the one each value would give."""
    from lxml import html

    from crawler.sites.generic import drop_counters, names_counter

    for value, counter in [("post-views", True), ("entry\u3000hits", True), ("meta read_count x", True),
                           ("views-field", False), ("thread breadcrumb", False), ("pv3 reader", False)]:
        assert names_counter(value) is counter, value
    tree = html.document_fromstring('<html><body><p class="thread">A</p><p id="nav reader">B</p>'
                                    '<span class="meta\u3000post-views">1,234 views</span><p>C</p></body></html>')
    assert drop_counters(tree) == 1
    assert tree.text_content() == "ABC"
    assert drop_counters(html.document_fromstring('<html><body><p class="thread">12 reads</p></body></html>')) == 0


def test_htmldate_is_asked_only_for_a_page_no_meta_tag_dates(monkeypatch):
    """htmldate's search (half a millisecond a page) runs only when no meta tag
    dates the article, and then its date is the article's."""
    from crawler.sites import generic

    calls = []
    real = generic.trafilatura_metadata.find_date

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(generic.trafilatura_metadata, "find_date", counting)
    page = reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT)
    assert generic.extract("https://finance.yahoo.com/news/x.html", page)["date"] == "2025-03-25 08:30:00"
    assert calls == []
    undated = page.replace('property="article:published_time"', 'property="x"').replace(
        "<body>", '<body><p class="date">Published 2024-05-06</p>', 1)
    assert generic.extract("https://finance.yahoo.com/news/x.html", undated)["date"].startswith("2024-05-06")
    assert calls == [1]


def test_a_page_is_parsed_once_unless_lxml_cut_it_short(monkeypatch):
    """The rules read trafilatura's own parse of the page; only a page deeper
    than lxml's limit (there trafilatura's parse stops) is parsed again, without it."""
    from crawler.sites import generic

    parses = []
    real = generic.parse_document
    monkeypatch.setattr(generic, "parse_document", lambda page: parses.append(1) or real(page))
    page = reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT)
    assert [b["markdown"] for b in generic.extract("https://finance.yahoo.com/news/x.html", page)["blocks"]] \
        == REFERENCE_TEXT
    assert parses == []
    text = "A paragraph of a news article buried very deep in layout markup, long enough to count. " * 4
    deep = "<html><body>" + "<div>" * 300 + f"<article><p>{text}</p></article>" + "</div>" * 300 + "</body></html>"
    assert "buried very deep" in "".join(b["text"] for b in generic.extract("https://example.org/deep", deep)["blocks"])
    assert parses == [1]


def test_trafilatura_reads_the_page_without_its_code_but_with_its_json_ld(monkeypatch):
    """Scripts and style sheets are taken out once, before trafilatura's passes
    (each would walk them again only to drop them); JSON-LD stays for its fallback."""
    from crawler.sites import generic

    seen = []
    real = generic._trafilatura

    def spy(page, *args, **kwargs):
        seen.append([(e.tag, e.get("type")) for e in page.iter("script", "style")])
        return real(page, *args, **kwargs)

    monkeypatch.setattr(generic, "_trafilatura", spy)
    page = reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT).replace(
        "</head>", '<style>p { color: red }</style><script>var tracker = 1;</script>'
                   '<script type="application/ld+json">{"@type": "NewsArticle"}</script></head>').replace(
        "</body>", "<script>document.write('ad')</script></body>")
    fields = generic.extract("https://finance.yahoo.com/news/x.html", page)
    assert [b["markdown"] for b in fields["blocks"]] == REFERENCE_TEXT
    assert seen and all(found == [("script", "application/ld+json")] for found in seen)


def _passes(monkeypatch) -> list[bool]:
    """The ``fast`` flag of each of trafilatura's text passes, as they are asked for."""
    real = generic.trafilatura.bare_extraction
    passes = []

    def spy(*args, **kwargs):
        passes.append(kwargs.get("fast", False))
        return real(*args, **kwargs)

    monkeypatch.setattr(generic.trafilatura, "bare_extraction", spy)
    return passes


def test_a_well_formed_article_is_read_without_trafilatura_s_comparison(monkeypatch):
    """readability and jusText (a third of extraction's time) are not asked
    about a long text of paragraphs: they could not replace it."""
    passes = _passes(monkeypatch)
    page = reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT)
    fields = generic.extract("https://finance.yahoo.com/news/x.html", page)
    assert [b["markdown"] for b in fields["blocks"]] == REFERENCE_TEXT
    assert passes == [True]


def test_a_page_trafilatura_s_own_extraction_misses_gets_its_comparison(monkeypatch):
    """Text in spans, no paragraph: trafilatura's own extraction finds
    nothing, readability finds the article; the comparison is asked for."""
    passes = _passes(monkeypatch)
    page = ("<html><head><title>Joe Tsai on AI</title></head><body><div>"
            + "".join(f"<div><span>{text}</span></div>" for text in REFERENCE_TEXT) + "</div></body></html>")
    fields = generic.extract("https://news.example.org/a/1.html", page)
    assert " ".join(b["text"] for b in fields["blocks"]).split() == " ".join(REFERENCE_TEXT).split()
    assert passes[:2] == [True, False]


def test_what_trafilatura_s_comparison_could_replace():
    """Its own text is compared where readability or jusText could win, as
    trafilatura decides: none, short, without paragraphs, mostly tables."""
    def own(page):
        return generic._trafilatura(page, "https://news.example.org/a/1.html", favor_precision=True,
                                    with_metadata=False, fast=True)

    article = reference_page("Alibaba's Joe Tsai says AI race has no winner", REFERENCE_TEXT)
    assert not generic._may_be_compared_away(own(article))
    assert generic._may_be_compared_away(None)
    assert generic._may_be_compared_away(own(reference_page("Short", REFERENCE_TEXT[:1])))
    cells = "".join(f"<tr><td>{text}</td></tr>" for text in REFERENCE_TEXT)
    tables = ('<html><body><table><tr><td><a href="/">Home</a> - <a href="/news">News</a></td></tr></table>'
              f"<table>{cells}</table><table><tr><td>About us</td></tr></table></body></html>")  # an old portal's layout
    document = own(tables)
    assert len(document.text) >= generic.SHORT_TEXT_CHARS
    assert generic._may_be_compared_away(document)


def test_an_empty_inline_element_does_not_cut_the_sentence_after_it():
    """A stock quote's placeholder, an anchor, an icon inside a paragraph:
    trafilatura's precision mode deletes an empty element with the text
    after it, so "Apple" ended the sentence and the paragraph after it went,
    too short to keep (a Sina technology story; 2 of the 181 English pages)."""
    paragraphs = [f"Paragraph {i} of the story, long enough to be read as the article's own text by anyone."
                  for i in range(5)]
    lead = "新浪科技讯 北京时间9月11日凌晨消息，苹果<span id=\"quote_AAPL\"></span>2019秋季发布会开幕，发布了新手机。"
    second = 'Shares of Apple<span class="quote"></span> rose, and <a name="more"></a>analysts <i class="icon"></i>said so.'
    page = ("<html><head><title>Apple event</title></head><body><article>"
            + "".join(f"<p>{p}</p>" for p in paragraphs) + f"<p>{lead}</p><p>{second}</p></article></body></html>")
    text = "\n".join(b["text"] for b in generic.extract("https://tech.example.com/2019/apple.html", page)["blocks"])
    assert "苹果2019秋季发布会开幕，发布了新手机。" in text, text
    assert "Shares of Apple rose, and analysts said so." in text, text


def test_content_after_a_stray_end_of_html_is_the_page_s_body():
    """A server-side include ends its header with </html>: libxml2 puts
    what follows beside the document, where nothing looked, and the article
    came out empty; a browser shows it in the body, and so is it read."""
    article = "".join(f"<p>第{i}条 全国人民代表大会常务委员会决定批准财政部发行特别国债，用于购买外汇，并调整年末国债余额限额。</p>"
                      for i in range(6))
    page = ("<html><head><title>关于批准发行特别国债的决议</title></head><body><div class='header'>"
            "<a href='/'>首页</a></div></html><!--end header--><div class='content'><h1>关于批准发行特别国债的决议</h1>"
            f"{article}</div><div class='footer'>版权所有</div></body></html>")
    fields = generic.extract("https://www.gov.example.cn/2007/06/29/a.html", page)
    text = "".join(b["text"] for b in fields["blocks"])
    assert "第0条" in text and "第5条" in text, fields["blocks"]


def test_a_paragraph_the_source_wraps_over_lines_is_one_paragraph():
    """A browser shows a line break of the page's source as a space (nothing
    between two Chinese characters); trafilatura kept it, and the lines were
    archived as paragraphs, a Chinese fragment then dropped as too short."""
    english = ("Veteran Nollywood actress, Kate Henshaw, who in 2008, won the\n"
               "Africa Movie Academy Award for Best Actress in a Leading Role, has taken\n"
               " to her Instagram page to share some stunning photos of herself.")
    chinese = ("未来科学大奖成立于2016年，是中国首个由科学家和企业家群体共同发起的世界级科学大奖，它设立之初就放话要做\n"
               "“中国的诺贝尔奖”。该奖项强调奖励在大中华地区完成、产生巨大国际影响的科研\n工作。")
    code = "line one\nline two"
    others = "".join(f"<p>Paragraph {i} of the story, long enough to be read as the article's own text.</p>"
                     for i in range(4))
    page = (f"<html><head><title>Story</title></head><body><article>{others}<p>{english}</p>"
            f"<p>{chinese}</p><pre>{code}</pre></article></body></html>")
    blocks = [b["text"].strip() for b in generic.extract("https://news.example.com/2019/story.html", page)["blocks"]]
    assert ("Veteran Nollywood actress, Kate Henshaw, who in 2008, won the Africa Movie Academy Award for Best "
            "Actress in a Leading Role, has taken to her Instagram page to share some stunning photos of herself."
            ) in blocks, blocks
    assert ("未来科学大奖成立于2016年，是中国首个由科学家和企业家群体共同发起的世界级科学大奖，它设立之初就放话要做"
            "“中国的诺贝尔奖”。该奖项强调奖励在大中华地区完成、产生巨大国际影响的科研工作。") in blocks, blocks
    generic.unwrap_source_lines(tree := generic.parse_document(page))
    assert tree.findtext(".//pre") == code  # preformatted text keeps its lines


def test_paragraphs_in_a_layout_cell_or_list_item_stay_paragraphs():
    """Old portals put the article in a table cell or a list item of the
    page's layout: trafilatura read it as one cell or item and joined its
    paragraphs into one line ("| p1 p2 p3 |")."""
    paragraphs = [f"第{i}段，区发改局和区招商办负责人及相关部门人员陪同调研，对众创金融街成立以来所做工作和取得的成效表示肯定。"
                  for i in range(4)]
    cell = "".join(f"<p>{p}</p>" for p in paragraphs)
    for layout in (f"<table><tr><td>导航</td><td>{cell}</td></tr></table>",
                   f"<ul class='two-column'><li class='left-main'>{cell}</li><li>侧栏</li></ul>",
                   # the article deeper in the column, in a page-wide "content" (trafilatura's
                   # first choice of a body): the body's own div inside the list item
                   f"<div class='content'><div class='main'><ul class='two-coloum fix'><li class='left left-main'>"
                   f"<div class='content all-txt'>{cell}</div></li></ul></div></div>"):
        page = f"<html><head><title>调研</title></head><body>{layout}</body></html>"
        blocks = [b["text"].strip() for b in generic.extract("https://www.news.example.cn/2019/1.html", page)["blocks"]]
        assert [b for b in blocks if b.startswith("第")] == paragraphs, blocks
