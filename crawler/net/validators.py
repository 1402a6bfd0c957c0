"""HTTP cache validators: what a server sends to say which version it served, and how it is asked back.

A refresh asks for an article with the ``ETag``/``Last-Modified`` its last
capture got, an image archived before is asked the same way, and a retry on
the article's other host carries the conditional headers along: a 304 then
says nothing changed. Knows HTTP headers, not Scrapy.
"""

from __future__ import annotations

#: (conditional request header, the validator it sends back), in the order they are sent.
CONDITIONAL = (("If-None-Match", "etag"), ("If-Modified-Since", "last_modified"))


def validators(response) -> dict:
    """The cache validators a server sent, for conditional refreshes."""
    def header(name):
        value = response.headers.get(name)
        return value.decode("latin-1").strip() if value else None
    return {"etag": header("ETag"), "last_modified": header("Last-Modified")}


def conditional_headers(stored: dict | None) -> dict:
    """The conditional request headers for validators kept as ``{"etag", "last_modified"}``."""
    return {name: stored[key] for name, key in CONDITIONAL if stored and stored.get(key)}


def carried_conditional(request) -> dict:
    """The conditional headers ``request`` was sent with, for the same article asked elsewhere."""
    return {name: value for name, _ in CONDITIONAL if request is not None and (value := request.headers.get(name))}
