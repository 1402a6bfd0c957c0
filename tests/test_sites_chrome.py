"""crawler/sites/chrome.py: where a page's date is not looked for, and where it still is."""

from __future__ import annotations

import pytest
from lxml import html

from crawler.sites import chrome, generic

BODY = "".join(f"<p>The council approved the budget after a long debate about buses, part {n}.</p>" for n in range(6))


def texts(tree) -> str:
    return " ".join(" ".join(tree.itertext()).split())


def left_of(page, headline: str) -> str:
    """The page's text with its chrome set apart; the page is whole again afterwards."""
    before = html.tostring(page)
    with chrome.set_apart(page, headline):
        left = texts(page)
    assert html.tostring(page) == before
    return left


def test_the_site_s_parts_go_and_the_article_s_stay():
    page = html.document_fromstring(
        "<html><body><header><span>Sunday, March 2, 2025</span><nav><a href='/'>Home</a></nav></header>"
        "<div id='sidebar'>Weather 2025-03-02</div><div class='site-footer'>© 2025 News</div>"
        "<main><article><header><h1>Budget approved</h1><time>March 1, 2025</time></header>" + BODY +
        "<footer class='article-footer'>Updated March 1, 2025</footer></article></main>"
        "<div class='wrap'><ul><li><a href='/a'>A long headline of a related story</a> 2025-03-02</li>"
        "<li><a href='/b'>Another long headline of a story</a> 2025-03-02</li>"
        "<li><a href='/c'>A third long headline of a story</a> 2025-03-01</li></ul></div>"
        "<aside>Most read</aside><footer>Contact</footer></body></html>")
    left = left_of(page, "Budget approved")
    for gone in ("Sunday", "Home", "Weather", "© 2025", "related story", "Most read", "Contact"):
        assert gone not in left, gone
    for kept in ("Budget approved", "March 1, 2025", "Updated March 1, 2025", "part 5"):
        assert kept in left, kept


def test_the_page_is_put_back_whole_even_when_the_search_fails():
    page = html.document_fromstring(
        "<html><body><div id='header'>Today</div>tail one<h1>Budget approved</h1>" + BODY +
        "<ul><li><a href='/a'>Link one here</a></li><li><a href='/b'>Link two</a></li><li><a href='/c'>Three</a></li>"
        "</ul>tail two<div class='footer'>© 2025</div></body></html>")
    before = html.tostring(page)
    with pytest.raises(RuntimeError):
        with chrome.set_apart(page, "Budget approved"):
            assert "Today" not in texts(page) and "Link one" not in texts(page) and "© 2025" not in texts(page)
            raise RuntimeError("htmldate failed")
    assert html.tostring(page) == before


def test_what_holds_the_headline_or_the_article_is_never_chrome():
    page = html.document_fromstring(
        "<html><body><header><h1>Budget approved</h1><p>By Jane, March 1, 2025</p></header>"
        f"<div class='sidebar-layout'><div>{BODY}</div></div>"
        "<div class='menu'><article><p>An article in a menu class, by a strange theme.</p></article></div>"
        "</body></html>")
    left = left_of(page, "Budget approved")
    assert "March 1, 2025" in left and "part 5" in left and "strange theme" in left


def test_a_header_holding_the_headline_in_any_element_is_the_article_s_but_a_link_to_it_is_not():
    """A news agency's page: the headline in a div.h-title and its byline
    date, inside div.header; a latest-stories list that links to the article
    is still chrome."""
    page = html.document_fromstring(
        "<html><body><div class='header'><div class='h-title'>Budget approved</div>"
        "<span class='h-time'>2019-12-10 07:57:40</span></div>"
        f"<div id='content'>{BODY}</div>"
        "<footer><ul><li><a href='/x'>Budget approved</a> 2018-03-02</li><li><a href='/y'>Other news</a></li>"
        "<li><a href='/z'>More news</a></li></ul></footer></body></html>")
    left = left_of(page, "Budget approved")
    assert "2019-12-10 07:57:40" in left and "2018-03-02" not in left


def test_a_list_of_the_article_s_own_points_stays():
    page = html.document_fromstring(
        f"<html><body><h1>Budget approved</h1>{BODY}<ul><li>More buses at night</li>"
        "<li>Cheaper tickets for <a href='/students'>students</a></li><li>A new depot in the east</li></ul>"
        "</body></html>")
    assert "A new depot" in left_of(page, "Budget approved")


@pytest.mark.parametrize("date, page_text, expected", [
    ("2025-01-01", "© 2025 Example News", True),
    ("2025-01-01 00:00:00", "Copyright 2005-2025 Example News", True),
    ("2025-01-01", "© 2024 Example News", False),
    ("2025-01-01 10:30:00", "© 2025 Example News", False),  # a time of day: written somewhere
    ("2025-03-01", "© 2025 Example News", False),
    (None, "© 2025 Example News", False),
])
def test_a_copyright_year_alone_is_no_date(date, page_text, expected):
    page = html.document_fromstring(f"<html><body><p>{page_text}</p></body></html>")
    assert chrome.copyright_year_only(date, page) is expected


def test_an_undated_article_takes_no_date_from_its_chrome_but_keeps_its_byline_s():
    """The masthead's date of today, the copyright year, a related list's days
    are not the article's; a byline's date is."""
    def page(byline: str) -> str:
        return ("<html><head><title>Budget approved</title></head><body><div id='header'>Sunday, March 2, 2025</div>"
                f"<div class='content'><h1>Budget approved</h1>{byline}{BODY}</div>"
                "<div class='box'><ul>" + "".join(
                    f"<li><a href='/{n}'>A long headline of another story number {n}</a> 2025-03-0{n}</li>"
                    for n in range(1, 4)) + "</ul></div><div class='footer'>Copyright © 2025 News</div></body></html>")
    assert generic.extract("https://news.example/story.html", page(""))["date"] == ""
    dated = page("<p class='byline'>By Jane Doe, February 27, 2025</p>")
    assert generic.extract("https://news.example/story.html", dated)["date"].startswith("2025-02-27")
