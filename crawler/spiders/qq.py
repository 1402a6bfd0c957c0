"""The ``qq`` spider: seed documents in, Article items out.

It requests each seed's source article and, one hop away, every page the
seed references (off-site allowed only for those), then hands each response
to the site adapter for its host. It knows Scrapy and seeds, not output
formats. Article images are requested too, for the WARC only.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import scrapy

from crawler import signals as crawler_signals
from crawler import sites
from crawler.encoding import garbled, redecode
from crawler.items import Article, plain_text
from crawler.seeds import load_seeds


class QqSpider(scrapy.Spider):
    name = "qq"

    def __init__(self, seeds: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seeds_dir = seeds
        self.seed_urls: dict[str, str] = {}  # URL -> seed file name

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        folder = Path(spider.seeds_dir or crawler.settings.get("SEEDS_DIR"))
        if not folder.is_dir():
            # fail at start-up, so the crawl exits non-zero before fetching anything
            raise FileNotFoundError(f"seed folder not found: {folder.resolve()}")
        return spider

    async def start(self):
        for request in self.start_requests():
            yield request

    def start_requests(self):
        seeds_dir = self.seeds_dir or self.settings.get("SEEDS_DIR")
        seen: dict[str, str] = {}  # article key -> the first seed URL naming it
        for seed in load_seeds(seeds_dir):
            for url in seed.urls:
                key = sites.article_key(url)
                if key in seen:
                    if seen[key] != url:
                        self.logger.info("%s (%s) is the same article as %s: fetched once", url, seed.name, seen[key])
                    continue
                seen[key] = url
                self.seed_urls[url] = seed.name
                try:
                    # dont_filter: every seed URL is fetched and answered for,
                    # even when it differs from another only by a fragment or
                    # is where another seed redirects to
                    yield scrapy.Request(
                        url,
                        callback=self.parse_article,
                        errback=self.on_error,
                        dont_filter=True,
                        meta={"seed_url": url, "seed": seed.name},
                    )
                except ValueError as exc:  # one bad URL must not stop the crawl
                    self.fail(url, f"invalid URL ({seed.name}): {exc}")
        self.logger.info("seed URLs to archive: %d", len(self.seed_urls))

    # --- callbacks --------------------------------------------------------

    def parse_article(self, response):
        seed_url = response.meta["seed_url"]
        if response.status >= 400:
            yield from self.try_elsewhere(response.url, response.meta, f"HTTP {response.status}")
            return
        if not isinstance(response, scrapy.http.TextResponse):
            ctype = response.headers.get("Content-Type", b"").decode("latin-1") or "unknown"
            self.fail(seed_url, f"not an HTML page ({ctype})")
            return
        try:
            fields = self.extract(response)
        except Exception as exc:  # a broken page must not stop the crawl
            self.logger.exception("extraction failed for %s", response.url)
            self.fail(seed_url, f"extraction error: {type(exc).__name__}: {exc}")
            return
        if fields is None:
            self.fail(seed_url, f"undecodable text: the article does not read as {response.encoding} "
                                "nor as any charset guessed from its bytes")
            return
        if not sites.same_article(seed_url, response.url):
            # e.g. a deleted article redirected to the portal's front page
            yield from self.try_elsewhere(seed_url, response.meta, f"redirected away to {response.url}")
            return
        if not any(b["type"] == "text" and b["text"].strip() for b in fields["blocks"]):
            if self.alternates(response.url, response.meta):
                yield from self.try_elsewhere(response.url, response.meta, "no article body")
                return
        article = Article(
            source_url=seed_url,
            url=response.url,
            seed=response.meta.get("seed"),
            capture=response.meta.get("warc_capture"),
            fetched_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **fields,
        )
        yield article
        if self.settings.getbool("ARCHIVE_IMAGES"):
            yield from self.image_requests(article)

    def extract(self, response) -> dict | None:
        """The site adapter's fields; decoded again when the declared charset
        turns the article into replacement characters; None when the article
        reads in no charset."""
        fields = sites.extract(response.url, response.text)
        if not garbled(plain_text(fields["blocks"])):
            return fields
        guess = redecode(response.body, response.encoding)
        if guess is not None:
            again = sites.extract(response.url, guess[0])
            if not garbled(plain_text(again["blocks"])):
                self.logger.warning("%s: declared charset %s is wrong; decoded as %s",
                                    response.url, response.encoding, guess[1])
                return again
        # Replacement characters the author wrote survive dropping the bytes
        # that do not decode; those a wrong charset made do not.
        lenient = sites.extract(response.url, response.body.decode(response.encoding, "ignore"))
        return fields if garbled(plain_text(lenient["blocks"])) else None

    def alternates(self, url, meta):
        """Other URLs of the same article not tried yet (qq's two hosts)."""
        tried = {meta["seed_url"], url, *meta.get("tried", ()), *meta.get("redirect_urls", ())}
        return [u for u in sites.alternate_urls(url) if u not in tried]

    def try_elsewhere(self, url, meta, reason):
        """Ask the article's other host before giving up on it."""
        seed_url = meta["seed_url"]
        first = meta.get("first_reason")
        for other in self.alternates(url, meta):
            self.logger.warning("%s: %s at %s; trying %s", seed_url, reason, url, other)
            tried = [*meta.get("tried", ()), *meta.get("redirect_urls", ()), url]
            yield scrapy.Request(other, callback=self.parse_article, errback=self.on_error, dont_filter=True,
                                 meta={"seed_url": seed_url, "seed": meta.get("seed"), "tried": tried,
                                       "first_reason": first or f"{reason} at {url}"})
            return
        self.fail(seed_url, f"{first}; then {reason} at {url}" if first else reason)

    def image_requests(self, article):
        urls = [b["src"] for b in article.get("blocks") or [] if b["type"] == "image"]
        if article.get("thumbnail"):
            urls.append(article["thumbnail"])
        for url in dict.fromkeys(urls):
            if url.startswith(("http://", "https://")):
                yield scrapy.Request(
                    url,
                    callback=self.image_archived,
                    errback=self.image_failed,
                    priority=-10,  # after the articles
                )

    def image_archived(self, response):
        self.crawler.stats.inc_value("archive/images/fetched")
        if response.status >= 400:
            self.crawler.stats.inc_value("archive/images/http_error")
            self.logger.warning("image %s answered HTTP %d", response.url, response.status)

    def image_failed(self, failure):
        self.crawler.stats.inc_value("archive/images/failed")
        self.logger.warning("image %s not fetched: %s", failure.request.url, failure.getErrorMessage())

    def on_error(self, failure):
        request = failure.request
        reason = f"{failure.type.__name__}: {failure.getErrorMessage()}"
        yield from self.try_elsewhere(request.url, request.meta, reason)

    def fail(self, url: str, reason: str):
        self.logger.error("not archived: %s: %s", url, reason)
        self.crawler.signals.send_catch_log(
            signal=crawler_signals.url_failed, url=url, reason=reason, spider=self
        )
