"""Every knob of the crawler, with its default and why.

Override any of them per run with ``scrapy crawl qq -s NAME=VALUE``.
"""

from scrapy.settings import default_settings as _scrapy

BOT_NAME = "crawler"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"
# Project commands (`scrapy crawl` with an exit status cron can alert on).
COMMANDS_MODULE = "crawler.commands"

# --- Inputs and outputs -------------------------------------------------
# Folder of seed documents (the spider argument `-a seeds=DIR` overrides it).
SEEDS_DIR = "seeds"
# Root of everything the crawler writes; nothing is written outside it.
ARCHIVE_DIR = "archive"
# An extraction shorter than this fraction of the stored copy's text is not
# allowed to replace it: it is kept aside under archive/rejected/ instead.
ARCHIVE_MIN_LENGTH_RATIO = 0.5
# Less body text than this counts as an empty extraction, in display columns
# (a CJK character counts two: 20 Chinese characters pass). The default for
# sites whose adapter sets no MIN_TEXT_CHARS of its own (x.com posts: 1).
ARCHIVE_MIN_TEXT_CHARS = 40
# Fetch the body images and cover thumbnail of every article, so that the
# WARC replays the article with its pictures.
ARCHIVE_IMAGES = True
# An article whose text is longer than this many characters is refused (a
# page that is really a data dump or a runaway template, not an article).
ARCHIVE_MAX_TEXT_CHARS = 300_000

# --- Extraction -----------------------------------------------------------
# Worker processes that extract articles off the reactor (-1: one per CPU;
# 0: in the crawl process itself, with no time limit, for debugging).
EXTRACTION_WORKERS = -1
# Seconds one page may take to extract before it fails with that reason
# (its worker is replaced; the crawl goes on).
EXTRACTION_TIMEOUT = 60
# A page bigger than this (bytes, decompressed) is kept in the WARC but not
# extracted: news pages are well under 2 MB, and lxml/trafilatura need about
# 30 times a page's size in memory.
EXTRACTION_MAX_PAGE_BYTES = 8 * 1024 * 1024

# --- Network guard ----------------------------------------------------------
# Networks the crawler may reach although they are not public (intranet
# archiving), e.g. ["10.20.0.0/16"]. Everything loopback, private,
# link-local, multicast or reserved is refused otherwise, for every request
# (seeds, redirects, images), judged on the URL and, when connecting
# directly, on what its host name resolves to.
GUARD_ALLOWED_NETWORKS = []
# Ports the crawler and its browser may connect to besides 80, 443 and the
# port of every seed URL, e.g. [8080] or "8080,8443" ("*": every port). Any
# other port of any host (an admin console, a database, a mail server) is
# refused, for every request, and the refusal names the port. Through a
# proxy it is the target URL's port that is judged; the proxy's own port is
# the operator's configuration and is never refused.
GUARD_ALLOWED_PORTS = []

# Seconds between progress lines (done / total, rate, time left) in the log
# of a crawl or refresh; the first comes after one interval (0: none).
PROGRESS_INTERVAL = 60

# Seconds a crawl or refresh waits for another run on the same archive to
# finish before it gives up with exit status 75, touching nothing.
ARCHIVE_LOCK_TIMEOUT = 60

# --- WARC ---------------------------------------------------------------
WARC_ENABLED = True
# File names follow PREFIX-TIMESTAMP-SERIAL-HOST.warc.gz (Heritrix convention).
WARC_PREFIX = "crawler"
# Rotate to a new file once the current one reaches this many bytes.
WARC_MAX_SIZE = 1_000_000_000
# gzip level of the WARC records (1-9). On 181 real news pages (bench/
# warc_write.py) 6 is as small as 9 within 0.5% at two thirds of its CPU
# time; 1 is 18% bigger for pages served uncompressed. A response whose
# payload is compressed already (served gzip- or br-encoded, a JPEG) is
# stored without deflating it again, whatever the level (0.2% bigger).
WARC_GZIP_LEVEL = 6
# When written records are forced to disk (fsync). "record": after every
# record group, before the article that points at it is written, so even a
# power cut leaves no article pointing at a lost record (one fsync a group:
# 0.2 ms on a fast disk, 10 ms and more on a spinning one). "interval": at
# most every WARC_FSYNC_INTERVAL seconds and at close, for disks where fsync
# is slow; a power cut can then lose the last seconds of records. A killed
# crawl loses nothing under either: the kernel has every record written.
WARC_FSYNC = "record"
WARC_FSYNC_INTERVAL = 1.0
# Free-form fields for the warcinfo record at the head of every file.
WARC_OPERATOR = ""
WARC_DESCRIPTION = "News articles archived from seed documents"
WARC_IS_PART_OF = "news-archive"
# Write a `metadata` record per article linking the capture to its Markdown.
WARC_METADATA_RECORDS = True
# Build archive/index.cdxj from the WARC files when the crawl closes.
WARC_CDXJ_INDEX = True

# --- Fetching -----------------------------------------------------------
# A desktop browser's User-Agent: news sites serve their full article page
# to it (some serve a stripped page or a block page to unknown bots).
USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36 (news-archive-crawler)"
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8",
    # Only codings every WARC reader decodes: warcio cannot read zstd, and
    # its brotli path breaks with the brotli module Scrapy installs.
    "Accept-Encoding": "gzip, deflate",
}
# The crawl fetches only URLs that seed documents name, on an archivist's
# instruction; robots.txt is not consulted (set True to obey it).
ROBOTSTXT_OBEY = False
CONCURRENT_REQUESTS = 8
# Items processed at once per response. A callback here yields an article
# and a few image requests; Scrapy starts this many tasks for every response
# whatever it yields (100 by default: 3 ms of CPU a page, bench/throughput.py).
CONCURRENT_ITEMS = 4
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
DOWNLOAD_TIMEOUT = 30
# Bytes one response may have, as received and again once decompressed
# (Scrapy applies both; a gzip bomb stops here). Images and news pages fit.
DOWNLOAD_MAXSIZE = 32 * 1024 * 1024
DOWNLOAD_WARNSIZE = 8 * 1024 * 1024
RETRY_TIMES = 2
# A page's <meta http-equiv="refresh"> is followed by the spider, and only
# from a page without text (crawler/spiders/elsewhere.py): Scrapy's
# middleware followed it from article pages too, and looped on self-refreshes.
METAREFRESH_ENABLED = False
# The spider carries a page's redirect chain on purpose into the request it
# makes from it (a meta refresh followed as a redirect; a redirect target's
# 304 asked again in full): Scrapy's warning about copied meta keys is not
# for this one.
META_COPY_WARN_SKIP_KEYS = ["redirect_urls"]
# Error statuses reach the spider so that each one is reported per URL.
HTTPERROR_ALLOW_ALL = True
COOKIES_ENABLED = True
# Standard proxies from http_proxy / https_proxy / no_proxy are honoured.
HTTPPROXY_ENABLED = True
# Optional test/lab aid: {"host[:port]": "http://127.0.0.1:8080"} sends the
# requests for a host through that proxy without touching the spider.
HOST_PROXY_MAP = {}

# Only http(s): the file:, data:, ftp: and s3: handlers are off, so no seed,
# redirect or image can read local files or reach other services.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}
# The DNS resolver that refuses names resolving to internal addresses.
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"

DOWNLOADER_MIDDLEWARES = {
    # gzip (nearly every news page) decoded with ISA-L just before Scrapy's
    # HttpCompressionMiddleware (590), which keeps every other coding.
    "crawler.downloadermiddlewares.gzipdecoding.GzipDecodingMiddleware": 595,
    "crawler.downloadermiddlewares.hostmap.HostProxyMapMiddleware": 740,
    # After the proxy middlewares (they say whether a proxy resolves names).
    "crawler.downloadermiddlewares.guard.NetworkGuardMiddleware": 760,
    # After every other middleware: sees the request as sent and the
    # response as received (still compressed, before redirects are handled).
    "crawler.downloadermiddlewares.warc.WarcCaptureMiddleware": 950,
}
ITEM_PIPELINES = {
    "crawler.pipelines.markdown.MarkdownWriterPipeline": 300,
    # An outcome a killed run wrote but never recorded is recorded now.
    "crawler.pipelines.recordrepair.UnrecordedOutcomes": 350,
    "crawler.pipelines.warcmeta.WarcMetadataPipeline": 400,
}
EXTENSIONS = {
    # The crawl's shared objects, each held by an extension and found by its
    # class (crawler.get_extension; crawler/extensions/lookup.py):
    # the archive I/O thread, where disk writes run off the reactor;
    "crawler.extensions.archiveio.ArchiveIO": 100,
    # the capture state store (archive/state.sqlite3), opened once per crawl;
    "crawler.extensions.statestore.CaptureState": 110,
    # the reader of the archive's own evidence (WARC text records, change log);
    "crawler.extensions.evidence.RecordedEvidence": 120,
    # the ports the guard lets through (GUARD_ALLOWED_PORTS and the seeds');
    "crawler.extensions.guardports.GuardPorts": 130,
    # where the change log ended when the run started (the feed and notification read on from it).
    "crawler.extensions.notify.RunEvents": 140,
    # Outcomes into the capture state (archive/state.sqlite3) and archive/changes.jsonl.
    "crawler.extensions.state.ArchiveStateRecorder": 490,
    "crawler.extensions.summary.CrawlSummary": 500,
    "crawler.extensions.progress.Progress": 505,
    "crawler.extensions.warcindex.CdxjIndex": 510,
    # A WACZ of the archive when the run ends; off unless WACZ_ON_CLOSE.
    "crawler.extensions.waczexport.WaczExport": 520,
    # archive/changes.atom after a run that recorded events (CHANGES_FEED_ENTRIES).
    "crawler.extensions.notify.ChangeFeed": 530,
    # One notification per run that recorded events; off unless NOTIFY_URLS.
    "crawler.extensions.notify.ChangeNotify": 535,
    # The crawl's one headless browser, started by the first browser request (crawler/downloadhandlers/chromium.py).
    "crawler.extensions.browser.SharedBrowser": 540,
    # The crawl's one WARC writer, which the capture middleware, the metadata
    # pipeline and the browser find with crawler.get_extension(); off unless
    # WARC_ENABLED. Last: it closes the file on spider_closed after the others.
    "crawler.extensions.warcwriter.WarcWriterExtension": 900,
}

# No console that runs code in the crawl: Scrapy's telnet console and its
# remote control (2.19+: a local port plus a job file with its token under
# ~/.local/state, outside the archive) are off in a crawler run from cron.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Scrapy's own extensions without those two, which are then not even imported
# (Scrapy imports a disabled one to read its name): the remote control's
# import loads aiohttp, 0.1 s of every start.
EXTENSIONS_BASE = {path: order for path, order in _scrapy.EXTENSIONS_BASE.items()
                   if path.rsplit(".", 1)[-1] not in ("RemoteControl", "TelnetConsole")}

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
# A refused article is logged as one line (its address and why), not followed
# by its whole item (crawler/logformatter.py).
LOG_FORMATTER = "crawler.logformatter.ArticleLogFormatter"
FEED_EXPORT_ENCODING = "utf-8"
# The detail of a log file (LOG_FILE, --logfile) and of `-v` / `-L INFO`.
LOG_LEVEL = "INFO"
# What `scrapy crawl` and `scrapy refresh` log on the console otherwise: warnings
# and errors; the run's summary is printed last on stdout whatever the level.
# "INFO" brings back Scrapy's settings and stats dumps by default.
CONSOLE_LOG_LEVEL = "WARNING"
# Set by the commands when the console is quiet (progress lines then go to stderr).
CONSOLE_QUIET = False

# --- Shared crawl (Redis) ---
# redis://host:port/db: `scrapy crawl qq` and `scrapy refresh` become workers
# of one shared run (queue, dupefilter, capture state and outcomes in Redis,
# scrapy-redis). Start every worker with the same command and arguments, on
# any number of machines sharing ARCHIVE_DIR. Empty: the single-machine crawl.
# Redis must be trusted: queued requests are pickled (scrapy-redis's format).
REDIS_URL = ""
# scrapy-redis's client options: give up on an unreachable Redis quickly.
REDIS_PARAMS = {"socket_timeout": 10, "socket_connect_timeout": 5, "retry_on_timeout": True}
# Every key of the shared run lives under this prefix: one prefix per archive.
REDIS_KEY_PREFIX = "news-archive"
# Names the run. Empty: a worker joins the run in progress on the archive,
# or starts a new one. Set (e.g. the date, from cron) so that a worker that
# starts after its run has finished reports that run instead of starting
# another, and so that workers restarted after all died resume the run.
REDIS_RUN_ID = ""
# Seconds a worker may go silent before its leased requests go back to the
# queue for the others, its WARC file counts as orphaned and its article
# locks expire. The heartbeat renews them every REDIS_HEARTBEAT_INTERVAL.
REDIS_LEASE_TIMEOUT = 60
REDIS_HEARTBEAT_INTERVAL = 5
# Seconds a finished run's summary stays in Redis for `scrapy summary`.
REDIS_SUMMARY_TTL = 30 * 24 * 3600
# Switches the components above when REDIS_URL is set; does nothing otherwise.
# It also sets RUN_COORDINATOR, what keeps other runs out of the archive while
# `scrapy crawl` or `refresh` runs (and answers `scrapy summary`): unset, the
# archive's file lock (crawler.commands.runner.ArchiveLockRuns); a shared run,
# its slot in Redis (crawler.distributed.runs.SharedRuns). Left unset here: an
# add-on's setting gives way to the project's.
ADDONS = {"crawler.distributed.addon.SharedCrawlAddon": 0}

# --- WACZ ---------------------------------------------------------------
# `scrapy wacz` packs the closed WARC files and a page list of the archived
# articles (URL, capture time, title, text) into one WACZ for ReplayWeb.page.
# Also make one at the end of every crawl and refresh, replacing the last.
WACZ_ON_CLOSE = False
# Where the WACZ goes: empty for <ARCHIVE_DIR>/wacz/archive.wacz; a relative
# path is taken inside ARCHIVE_DIR, an absolute one as it is.
WACZ_PATH = ""

# --- Change alerts ----------------------------------------------------------
# Where to tell people what a crawl or refresh changed: Apprise URLs
# (https://github.com/caronc/apprise/wiki), e.g. "mailto://user:pass@example.org",
# "matrix://…", "slack://…", "tgram://…", "ntfy://…", "json://host/path" (a
# webhook). A list, or one string of URLs separated by spaces or commas (or a
# JSON list) on the command line.
# Every run that recorded events sends ONE notification to each target: the
# changed, gone and back articles by name, with their change counts and
# links, and how many were newly archived. A run that recorded nothing (no
# article archived, changed, gone or back) sends NO notification. A target
# that fails is logged and counted (stats notify/failed); it never changes
# the run's exit status. Requests go through http_proxy/https_proxy when
# set (exempt the targets with no_proxy). A shared run (REDIS_URL) sends one
# too, from its last worker out, with every worker's events. Empty: none.
NOTIFY_URLS = []
# At most this many articles named in one notification; the rest are counted.
NOTIFY_MAX_ARTICLES = 50
# The public address of the Hugo site (what `scrapy hugo --base-url` builds
# for), e.g. "https://archive.example.org/news/": notifications and the feed
# then link each article's page and each change's side-by-side diff there.
# Empty: they name the article file and the `scrapy diff` command instead.
SITE_BASE_URL = ""
# archive/changes.atom, a feed of the change log for any feed reader: its
# last this many events, newest first, rewritten atomically after every run
# that recorded events (also without NOTIFY_URLS). 0: no feed.
CHANGES_FEED_ENTRIES = 200

# --- Hugo site ----------------------------------------------------------
# `scrapy hugo` builds archive/articles/ as a static site. It works in
# <ARCHIVE_DIR>/site/ (generated config, version diffs, Hugo's cache).
# The hugo executable (Debian: apt-get install hugo).
HUGO_BIN = "hugo"
# The shipped site (config.yaml template, layouts/, static/); empty: the
# project's hugo/ folder.
HUGO_SOURCE_DIR = ""
# Where the built site is written (`--output`); empty: <ARCHIVE_DIR>/site/public.
HUGO_OUTPUT_DIR = ""
# Root URL the site is served from (`--base-url`); "/" serves from a host's root.
HUGO_BASE_URL = "/"
# Each article's (and each older version's) capture in a replay tool, with
# {timestamp} the 14-digit UTC time of its warc_date and {url} its
# fetched_url (pywb's URL scheme; collection "archive"). Empty: no link.
HUGO_REPLAY_URL = "http://localhost:8080/archive/{timestamp}/{url}"
# A full-text search of the articles and their versions (Chinese included),
# indexed into the built site by Pagefind (the PyPI package, which ships its
# binary) and offered by a search box on every page; False: no search.
HUGO_SEARCH = True

# --- Browser ------------------------------------------------------------
# Pages that need a browser go through headless Chromium (crawler/browser/policy.py).
# "auto": a page whose extraction is empty or collapsed and which looks like
# a script shell is loaded again in the browser, once. "never": no browser.
# Or hosts ("x.com,twitter.com" or a list): their article pages (and their
# subdomains') go straight to the browser; other pages still get "auto".
# A crawl that needs no browser never starts one.
BROWSER_RENDER = "auto"
# Under "auto", an extraction with fewer characters of text than this counts
# as collapsed (a shell's noscript notice or "Loading…" line is all it found).
BROWSER_AUTO_MIN_TEXT = 200
# The system's Chromium (Debian package `chromium`); Playwright's own
# browser download is never used.
BROWSER_EXECUTABLE = "/usr/bin/chromium"
# Chromium switches: no sandbox (runs as root in containers), no GPU, no
# QUIC (proxies and WARC records speak HTTP/1.1), nothing fetched on the
# browser's own account (updates, sync, field trials).
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage"]
# Pages rendered at the same time, in the one browser the crawl shares.
BROWSER_MAX_PAGES = 2
# Seconds a page may take to load, settle and be captured; past it the
# page fails with that reason and the crawl goes on.
BROWSER_PAGE_TIMEOUT = 30
# Seconds to wait after load for the network to fall quiet (the text often
# arrives by XHR/fetch); a page that never falls quiet is taken as it is.
BROWSER_IDLE_TIMEOUT = 5
# Bytes of response bodies one page may keep for the WARC; a body that would
# pass it is neither read from the browser nor recorded. (Each body is also
# cut at DOWNLOAD_MAXSIZE, as received and decoded, by the guard proxy every
# browser request goes through, crawler/net/guardproxy/; that proxy closes a
# connection idle for DOWNLOAD_TIMEOUT seconds.)
BROWSER_MAX_PAGE_BYTES = 100 * 1024 * 1024
# A PNG of the rendered viewport in the WARC (urn:screenshot:<url>).
BROWSER_SCREENSHOT = True
BROWSER_VIEWPORT_WIDTH = 1280
BROWSER_VIEWPORT_HEIGHT = 800
# http(s) through a handler that serves plain requests as Scrapy does and
# hands browser requests to Chromium (scrapy-playwright).
DOWNLOAD_HANDLERS.update({
    "http": "crawler.downloadhandlers.chromium.ChromiumDownloadHandler",
    "https": "crawler.downloadhandlers.chromium.ChromiumDownloadHandler",
})
# Before the WARC capture (950) on the way out, after it on the way back:
# sends BROWSER_RENDER hosts to the browser, records what the browser
# fetched besides the document, and hands the rendered DOM to the spider.
DOWNLOADER_MIDDLEWARES["crawler.downloadermiddlewares.browser.BrowserMiddleware"] = 100
