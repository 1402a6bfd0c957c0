"""The Article item: what every output needs, nothing format-specific."""

from __future__ import annotations

import scrapy


class Article(scrapy.Item):
    """One extracted article.

    ``blocks`` is the body in reading order, each block a dict:
    ``{"type": "text", "markdown": "with **bold**", "text": "plain"}`` or
    ``{"type": "image", "src": "https://..."}``.
    """

    # where it came from
    key = scrapy.Field()  # canonical article key (crawler.sites.article_key)
    source_url = scrapy.Field()  # the URL the seed names (kept through redirects)
    source_link = scrapy.Field()  # the archived article's source link, when it differs (crawler.pipelines.markdown)
    url = scrapy.Field()  # the URL that answered
    seed = scrapy.Field()  # seed file name
    site = scrapy.Field()  # short site name: "qq", "reuters", ...
    article_id = scrapy.Field()  # the site's own id, if it has one
    # what it says
    title = scrapy.Field()
    date = scrapy.Field()  # "YYYY-MM-DD HH:MM:SS", the site's local time
    abstract = scrapy.Field()  # the page's own summary, if it carries one
    lang = scrapy.Field()  # e.g. "zh-CN"
    thumbnail = scrapy.Field()  # cover image URL
    blocks = scrapy.Field()
    extractor = scrapy.Field()  # which adapter/path produced it
    browser = scrapy.Field()  # True when the text came from the page as a browser rendered it
    # where the capture lives (filled from the WARC middleware)
    capture = scrapy.Field()  # {"warc_file", "record_id", "date", "uri", "payload_digest", "revisit"}
    validators = scrapy.Field()  # {"etag", "last_modified"} the server sent
    fetched_at = scrapy.Field()
    # what the pipelines did with it ("archived", "updated", "unchanged"); a
    # person reads "updated" as "changed" (outcome_word), the change log's word
    outcome = scrapy.Field()
    path = scrapy.Field()  # Markdown file, relative to the archive root
    text_digest = scrapy.Field()  # crawler.core.digest.text_digest of the rendered Markdown
    rendered = scrapy.Field()  # the Markdown as written (rendered once, by the Markdown pipeline)
    same_as = scrapy.Field()  # "unchanged" because another seed URL of this crawl wrote the article
    change = scrapy.Field()  # for "updated": {"previous_version", "previous_record_id", "counts", "cause"}
    reread = scrapy.Field()  # for a change: the stored copy's page as today's extraction reads it (or {})
    stored_capture = scrapy.Field()  # for "unchanged": the record id the stored copy names
    # an outcome recorded late (crawler.pipelines.recordrepair): which of its
    # records exist already, and the capture its text came from
    recorded = scrapy.Field()  # {"text": bool, "event": bool, "capture": record id or None}
    # a replaced copy whose own outcome was never recorded: recorded first
    late = scrapy.Field()  # {"path", "text", "capture", "digest", "done", "outcome", "change"}


def outcome_word(outcome: str) -> str:
    """The word a log line, a stats key or a summary says for an item's outcome:
    one word for a new version everywhere a person reads it ("changed", as the
    change log and the refresh summary say), whatever the item calls it."""
    return "changed" if outcome == "updated" else outcome
