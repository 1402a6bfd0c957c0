"""Imported once, by the extraction pool's forkserver, so workers start warm.

A worker that starts cold imports Scrapy, lxml and trafilatura and then, on
its first pages, builds trafilatura's lazy tables (jusText's word lists of
every language, date parsers, the public suffix list): about 110 MiB private
to each worker. Built here, in the process the workers are forked from, those
pages are shared copy-on-write by every worker, and ``gc.freeze()`` keeps the
cyclic collector from writing into them (which would copy them).

The warm-up is a convenience, never a condition: if any of it fails, the
workers build what they need themselves, as they would without it.
"""

from __future__ import annotations

import gc

from crawler.extraction.pool import extract_body

#: A small article in the generic path: parses, extracts text and metadata
#: (dates, language, site name) once.
WARM_UP_PAGE = b"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Warm-up story - Example News</title>
<link rel="canonical" href="https://www.example.com/news/2024/01/02/warm-up.html">
<meta property="article:published_time" content="2024-01-02T03:04:05+08:00">
<meta name="description" content="A page the extraction workers read once before any real one.">
</head><body><nav><a href="/">Home</a></nav><article><h1>Warm-up story</h1>
<p>Published on 2 January 2024. The extraction workers read this page once, before the crawl
gives them any, so that what they build on a first page is built only once.</p>
<p>A second paragraph, long enough to count as article text rather than boilerplate, about
nothing in particular but written in full sentences, as news is.</p></article>
<footer>Copyright Example News</footer></body></html>"""


def warm_up() -> None:
    extract_body("https://www.example.com/news/2024/01/02/warm-up.html", WARM_UP_PAGE, "text/html; charset=utf-8")
    # and without its meta date: htmldate searches the page then (its parsers, built once)
    undated = WARM_UP_PAGE.replace(b'<meta property="article:published_time"', b'<meta property="x"')
    # and at an address whose domain courlan's pattern does not read (a name
    # of three letters or less, as wsj.com): the public suffix list is then
    # loaded, 90 ms and a trie, which a fifth of news pages need
    undated = undated.replace(b"https://www.example.com/news/2024/01/02/", b"https://ab.example/news/")
    extract_body("https://www.example.com/news/warm-up.html", undated, "text/html; charset=utf-8")
    # jusText's rescue pass reads every language's stop words into one set,
    # lazily, on the first page that needs it (trafilatura's own helpers).
    from justext.core import define_stoplist
    from trafilatura.external import jt_stoplist_init

    define_stoplist(jt_stoplist_init())


try:
    warm_up()
except Exception:  # noqa: BLE001 - a failed warm-up only costs memory
    pass
gc.freeze()
