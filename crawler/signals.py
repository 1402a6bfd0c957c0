"""Signals of the crawler's own (Scrapy's signal API, custom objects)."""

#: A URL could not be archived. Arguments: url, reason, kind, spider.
url_failed = object()
#: A refresh found an archived article unchanged without extracting it (a
#: 304, or the byte-identical payload). Arguments: url, key, capture, validators, spider.
article_unchanged = object()
#: A refresh found an archived article gone (404/410, redirected away).
#: Arguments: url, key, reason, spider.
article_gone = object()
#: An article that was gone answers again. Arguments: url, key, spider.
article_back = object()
