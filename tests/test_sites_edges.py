"""The site's own lines at the edges of an article (any language but Chinese,
which crawler/sites/zh.py handles) are left out; article text is not."""

from crawler.sites import edges, generic

ARTICLE = [
    "The city council approved the new bridge on Tuesday after a debate that lasted most of the evening.",
    "Supporters said the crossing would cut commuting times for thousands of residents on the east side.",
    "Opponents questioned the cost, which has risen by a third since the project was first proposed.",
    "Construction is expected to begin next spring and to take about two years, officials said.",
]


def test_newsletter_share_and_credit_lines_after_the_article_go():
    tail = ["Reporting by Jane Doe; editing by John Roe", "Like this story? Share it with a friend!",
            "Get the latest updates right in your inbox. Subscribe to our newsletters.", "12 comments"]
    assert edges.trim(ARTICLE + tail) == ARTICLE


def test_a_trailing_list_is_article_text():
    dates = ["Aug. 30 -- Pepsi Center, Denver, CO", "Sept. 2 -- USANA Amphitheatre, Salt Lake City, UT"]
    assert edges.trim(ARTICLE + dates) == ARTICLE + dates


def test_page_tools_and_a_date_line_before_the_article_go():
    head = ["- Print Article", "Published November 20, 2019 11:28 AM"]
    assert edges.trim(head + ARTICLE) == ARTICLE


def test_the_generic_path_trims_the_edges():
    page = ("<html><head><title>Bridge approved</title></head><body><article><h1>Bridge approved</h1>"
            + "".join(f"<p>{p}</p>" for p in ARTICLE)
            + "<p>Like this story? Share it with a friend!</p></article></body></html>")
    fields = generic.extract("https://news.example.com/2025/bridge.html", page)
    assert [b["text"] for b in fields["blocks"]] == ARTICLE
