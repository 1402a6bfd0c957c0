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
from scrapy.utils.response import get_meta_refresh

from crawler import signals as crawler_signals
from crawler import sites
from crawler.archive.storage import ArchiveStore
from crawler.browser import policy as browser
from crawler.core import markdown
from crawler.core.failures import binary_content, is_image
from crawler.extensions.archiveio import run_io
from crawler.extensions.guardports import port_policy
from crawler.extensions.statestore import state_store
from crawler.extraction.pool import ExtractionError, ExtractionPool
from crawler.items import Article
from crawler.net.policy import blocked_reason, parse_networks
from crawler.seeds import load_seeds
from crawler.sites import identity
from crawler.spiders.failures import failure_reason
from crawler.warc.lookup import latest_capture


def validators(response) -> dict:
    """The cache validators a server sent, for conditional refreshes."""
    def header(name):
        value = response.headers.get(name)
        return value.decode("latin-1").strip() if value else None
    return {"etag": header("ETag"), "last_modified": header("Last-Modified")}


class QqSpider(scrapy.Spider):
    name = "qq"
    #: The ``-a NAME=VALUE`` arguments it takes; any other is refused as a typo (crawler.commands.cli).
    arguments = {"seeds": "the seed folder, default SEEDS_DIR"}

    def __init__(self, seeds: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seeds_dir = seeds
        self.seed_urls: dict[str, str] = {}  # URL -> seed file name

    #: Whether the spider reads the seed folder (the refresh spider reads the state).
    reads_seeds = True

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        folder = Path(spider.seeds_dir or crawler.settings.get("SEEDS_DIR"))
        if cls.reads_seeds and not folder.is_dir():
            # fail at start-up, so the crawl exits non-zero before fetching anything
            raise FileNotFoundError(f"seed folder not found: {folder.resolve()}")
        spider.extractor = ExtractionPool.from_crawler(crawler)
        spider.allowed_networks = parse_networks(crawler.settings.getlist("GUARD_ALLOWED_NETWORKS"))
        return spider

    async def start(self):
        # a shared run's are pushed once, by one worker (crawler.distributed.start.SharedStart)
        for request in self.start_requests():
            yield request

    def start_requests(self):
        seeds_dir = self.seeds_dir or self.settings.get("SEEDS_DIR")
        seen: dict[str, str] = {}  # article key -> the first seed URL naming it
        seeds = load_seeds(seeds_dir)
        ports = port_policy(self.crawler)
        for url in (url for seed in seeds for url in seed.urls):
            ports.allow_url(url)  # every seed's port, before the first page names another
        for seed in seeds:
            if seed.front_matter_error:
                self.crawler.stats.inc_value("seeds/front_matter_ignored")
            for dropped in seed.dropped:
                self.crawler.stats.inc_value("seeds/link_dropped")
                if dropped.malformed:  # meant as a page: a failed seed URL, so cron hears of the typo
                    self.seed_urls[dropped.url] = seed.name
                    self.fail(dropped.url, f"invalid URL ({seed.name}): {dropped.reason}", kind="invalid URL")
            for url in seed.urls:
                key = sites.article_key(url)
                if key in seen:
                    if seen[key] != url:
                        self.logger.info("%s (%s) is the same article as %s: fetched once", url, seed.name, seen[key])
                    continue
                seen[key] = url
                self.seed_urls[url] = seed.name
                limit = self.settings.getint("URLLENGTH_LIMIT")
                if limit and len(url) > limit:  # Scrapy would drop it with an INFO line
                    self.fail(url, f"URL of {len(url)} characters is longer than URLLENGTH_LIMIT ({limit})",
                              kind="URL too long")
                    continue
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
                    self.fail(url, f"invalid URL ({seed.name}): {exc}", kind="invalid URL")
        self.logger.info("seed URLs to archive: %d", len(self.seed_urls))

    # --- callbacks --------------------------------------------------------

    async def parse_article(self, response):
        seed_url = response.meta["seed_url"]
        if 300 <= response.status < 400:
            # a redirect Scrapy would not follow (to file:, ftp:, javascript:...)
            location = response.headers.get("Location", b"").decode("latin-1") or "nowhere"
            self.fail(seed_url, f"redirect not followed: HTTP {response.status} to {location}",
                      kind="redirect not followed")
            return
        if response.status >= 400:
            for request in self.try_elsewhere(response.url, response.meta, f"HTTP {response.status}",
                                              kind=f"HTTP {response.status}", request=response.request):
                yield request
            return
        if not isinstance(response, scrapy.http.TextResponse):
            ctype = response.headers.get("Content-Type", b"").decode("latin-1") or "unknown"
            self.fail(seed_url, f"not an HTML page ({ctype})", kind="not an HTML page")
            return
        binary = binary_content(response.body)
        if binary:
            self.fail(seed_url, f"not an HTML page ({binary} served as "
                                f"{response.headers.get('Content-Type', b'').decode('latin-1') or 'a page'})",
                      kind="not an HTML page")
            return
        limit = self.settings.getint("EXTRACTION_MAX_PAGE_BYTES")
        if limit and len(response.body) > limit:
            self.fail(seed_url, f"page of {len(response.body)} bytes is larger than EXTRACTION_MAX_PAGE_BYTES "
                                f"({limit}): kept in the WARC, not extracted", kind="page too large")
            return
        try:
            fields, note, charset = await self.extractor.extract_response(response)
        except ExtractionError as exc:  # a broken or pathological page must not stop the crawl
            self.logger.error("extraction failed for %s: %s", response.url, exc)
            self.fail(seed_url, str(exc), kind="extraction failed")
            return
        if note:
            self.logger.warning("%s: %s", response.url, note)
        if fields is not None and sites.fell_back(fields):
            self.crawler.stats.inc_value("extraction/generic_fallback")
            self.logger.warning("%s: %s", response.url, fields["extractor"])
        if fields is None:
            self.fail(seed_url, f"undecodable text: the article does not read as {charset} "
                                "nor as any charset guessed from its bytes", kind="undecodable text")
            return
        key = response.meta.get("article_key") or sites.article_key(seed_url)
        if (why := self.not_the_article(key, seed_url, response, fields)) is not None:
            # e.g. a deleted article redirected to the portal's front page
            for request in self.try_elsewhere(seed_url, response.meta, f"redirected away to {response.url} ({why})",
                                              kind="redirected away", request=response.request):
                yield request
            return
        if not any(b["type"] == "text" and b["text"].strip() for b in fields["blocks"]):
            if self.alternates(response.url, response.meta):
                for request in self.try_elsewhere(response.url, response.meta, "no article body",
                                                  kind="no article body", request=response.request):
                    yield request
                return
        if (refreshed := self.meta_refresh(response, fields)) is not None:
            yield refreshed
            return
        # Pages that need a browser (crawler/browser/policy.py): a script shell whose
        # extraction came out empty is loaded again in headless Chromium, once.
        if (rendering := browser.fallback_request(self, response, fields)) is not None:
            yield rendering
            return
        self.drop_blocked_links(fields, response.url)
        article = Article(
            key=key,  # the stored key when the article is archived (a refresh): never re-derived
            source_url=seed_url,
            url=response.url,
            seed=response.meta.get("seed"),
            capture=response.meta.get("warc_capture"),
            validators=validators(response),
            browser=browser.rendered(response),
            fetched_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            **fields,
        )
        yield article
        if self.settings.getbool("ARCHIVE_IMAGES"):
            urls = self.image_urls(article)
            # index look-ups and WARC reads in the archive I/O thread, not on the reactor
            indexed = urls and (Path(self.settings.get("ARCHIVE_DIR")) / "index.cdxj").is_file()
            earlier = await run_io(self.crawler, self.earlier_captures, urls) if indexed else {}
            for request in self.image_requests(urls, earlier):
                yield request

    def not_the_article(self, key: str, seed_url: str, response, fields: dict) -> str | None:
        """Why the page that answered is not the article (crawler.sites.identity),
        or None. The stored copy is read only when the address changed."""
        if sites.article_key(response.url) in (key, sites.article_key(seed_url)):
            return None
        state = state_store(self.crawler).get(key)
        stored = None
        if state is not None:
            paragraphs = []
            try:
                text = ArchiveStore(self.settings.get("ARCHIVE_DIR")).read_text(state.path)
                paragraphs = [p for p in markdown.parse(text)[1][:-1] if not p.startswith("![")]
            except (OSError, ValueError) as exc:  # a missing or damaged copy: the addresses still tell
                self.logger.warning("%s: stored copy %s not readable (%s)", seed_url, state.path, exc)
            stored = identity.Stored(urls=[state.url, state.source_url], title=state.title, paragraphs=paragraphs)
        return identity.not_the_article(
            seed_url, response.url, stored, canonical=identity.canonical_url(response), title=fields.get("title"),
            paragraphs=[b["text"] for b in fields["blocks"] if b["type"] == "text"])

    def drop_blocked_links(self, fields: dict, page_url: str) -> None:
        """A cover or body image at an internal address is never requested
        nor kept in the article (it would point readers of the archive at
        that address too); each one is named."""
        def blocked(url):
            reason = blocked_reason(url, self.allowed_networks)
            if reason:
                self.crawler.stats.inc_value("guard/blocked_in_article")
                self.logger.warning("%s: image %s dropped: %s", page_url, url, reason)
            return reason
        if fields.get("thumbnail") and blocked(fields["thumbnail"]):
            fields["thumbnail"] = ""
        fields["blocks"] = [b for b in fields["blocks"] if b["type"] != "image" or not blocked(b["src"])]

    def meta_refresh(self, response, fields):
        """The request a page without text sends its readers on to with a
        ``<meta http-equiv="refresh">``, or None. Scrapy's own middleware is
        off: it followed a refresh even from a page with an article on it
        (losing the page when the target was blocked) and looped on a page
        that refreshes itself. Followed once per address, through every guard."""
        if fields.get("extractor") == "meta-description" or sites.too_little_text(
                response.url, fields["blocks"], self.settings.getint("ARCHIVE_MIN_TEXT_CHARS")):
            _, target = get_meta_refresh(response)
            seen = {response.url, response.meta["seed_url"], *response.meta.get("redirect_urls", ())}
            if target and target not in seen:
                self.crawler.stats.inc_value("archive/meta_refresh_followed")
                self.logger.info("%s: no text, and a meta refresh to %s: following it", response.url, target)
                meta = {k: v for k, v in response.meta.items()
                        if k in ("seed_url", "tried", "first_reason", "first_kind", *self.CARRIED_META)}
                meta["redirect_urls"] = [*response.meta.get("redirect_urls", ()), response.url]
                return scrapy.Request(target, callback=response.request.callback, errback=self.on_error,
                                      dont_filter=True, meta=meta)
        return None

    def alternates(self, url, meta):
        """Other URLs of the same article not tried yet (qq's two hosts)."""
        tried = {meta["seed_url"], url, *meta.get("tried", ()), *meta.get("redirect_urls", ())}
        return [u for u in sites.alternate_urls(url) if u not in tried]

    #: Meta a retry on another host carries over: the article's identity and
    #: what makes its request conditional (crawler.spiders.refresh).
    CARRIED_META = ("seed", "article_key", "refresh_original", "refresh_refused")
    #: Failure kinds that say the page is not there (rather than unreachable).
    ABSENT_KINDS = frozenset({"HTTP 404", "HTTP 410", "redirected away"})

    def try_elsewhere(self, url, meta, reason, kind, request=None):
        """Ask the article's other host before giving up on it. The failure
        reported is the worst of the attempts: a host that could not be
        reached, then one that says 404, is a failure, not a gone article."""
        seed_url = meta["seed_url"]
        first = meta.get("first_reason")
        for other in self.alternates(url, meta):
            self.logger.warning("%s: %s at %s; trying %s", seed_url, reason, url, other)
            tried = [*meta.get("tried", ()), *meta.get("redirect_urls", ()), url]
            carried = {name: meta[name] for name in self.CARRIED_META if name in meta}
            headers = {name: value for name in ("If-None-Match", "If-Modified-Since")
                       if request is not None and (value := request.headers.get(name))}
            yield scrapy.Request(other, callback=self.parse_article, errback=self.on_error, dont_filter=True,
                                 headers=headers,
                                 meta={**carried, "seed_url": seed_url, "tried": tried,
                                       "first_reason": first or f"{reason} at {url}",
                                       "first_kind": meta.get("first_kind") or kind})
            return
        first_kind = meta.get("first_kind")
        if first_kind and first_kind not in self.ABSENT_KINDS and kind in self.ABSENT_KINDS:
            kind = first_kind  # unreachable, then absent: the worst of the two
        self.fail(seed_url, f"{first}; then {reason} at {url}" if first else reason, kind=kind)

    @staticmethod
    def image_urls(article) -> list[str]:
        urls = [b["src"] for b in article.get("blocks") or [] if b["type"] == "image"]
        if article.get("thumbnail"):
            urls.append(article["thumbnail"])
        return [url for url in dict.fromkeys(urls) if url.startswith(("http://", "https://"))]

    def earlier_captures(self, urls) -> dict:
        """The latest capture of each image archived before (crawler.warc.lookup)."""
        return {url: latest_capture(self.settings.get("ARCHIVE_DIR"), url) for url in urls}

    def image_requests(self, urls, earlier: dict):
        """Each image once; one archived before is asked conditionally, and an
        unchanged answer is a revisit of that capture, not a second copy."""
        for url in urls:
            capture = earlier.get(url)
            headers = {name: capture[key] for name, key in (("If-None-Match", "etag"),
                                                           ("If-Modified-Since", "last_modified"))
                       if capture and capture.get(key)}
            yield scrapy.Request(
                url,
                callback=self.image_archived,
                errback=self.image_failed,
                headers=headers,
                meta={"refresh_original": capture} if capture else {},
                priority=-10,  # after the articles
            )

    def image_archived(self, response):
        stats = self.crawler.stats
        if response.status == 304 or (response.meta.get("warc_capture") or {}).get("revisit"):
            stats.inc_value("archive/images/unchanged")
        elif response.status >= 400:
            stats.inc_value("archive/images/http_error")
            self.logger.warning("image %s answered HTTP %d", response.url, response.status)
        elif not is_image(response):
            stats.inc_value("archive/images/not_image")
            ctype = response.headers.get("Content-Type", b"").decode("latin-1") or "no content type"
            self.logger.warning("image %s answered something that is not an image (%s)", response.url, ctype)
        else:
            stats.inc_value("archive/images/fetched")

    def image_failed(self, failure):
        self.crawler.stats.inc_value("archive/images/failed")
        kind, reason = failure_reason(failure, self.settings)
        self.logger.warning("image %s not fetched: %s", failure.request.url, reason)

    def on_error(self, failure):
        request = failure.request
        kind, reason = failure_reason(failure, self.settings)
        yield from self.try_elsewhere(request.url, request.meta, reason, kind=kind, request=request)

    def fail(self, url: str, reason: str, kind: str | None = None):
        self.logger.error("not archived: %s: %s", url, reason)
        self.crawler.signals.send_catch_log(
            signal=crawler_signals.url_failed, url=url, reason=reason, kind=kind or reason, spider=self
        )
