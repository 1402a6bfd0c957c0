"""Failures said plainly: a kind to count them by, and a reason to read.

Scrapy's failures name an exception class and, for some, nothing else (a
download over the size limit is a bare ``DownloadCancelledError``). The
summary groups failed URLs by kind, so the kind must never carry URL detail.
"""

from __future__ import annotations

#: Stats that fail a run when set (not 0), beside its failed seed URLs
#: (``archive/seed_urls_failed``): damaged or unwritten output, outcomes that
#: could not be recorded, a refresh asked for an article the archive does not
#: have. The one list: the exit status of ``scrapy crawl`` and ``refresh``
#: (crawler/commands/runner.py), and a shared run's status, its summary and
#: every worker's exit status (crawler/distributed/) all go by it.
RUN_FAILURE_STATS = ("warc/damaged_files", "warc/write_errors", "warc/index_failed", "wacz/failed",
                     "refresh/unknown_article", "state/errors", "archive/state_save_failed")

#: Leading bytes of the image formats the web serves.
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM", b"II*\x00", b"MM\x00*")


def is_image(response) -> bool:
    """Whether a response is an image: by its content type, else its bytes."""
    ctype = response.headers.get("Content-Type", b"").split(b";")[0].strip().lower()
    if ctype.startswith(b"image/"):
        return True
    return is_image_bytes(response.body[:16])


#: Leading bytes of formats that are sometimes served as text/html.
BINARY_MAGIC = {b"%PDF-": "a PDF", b"PK\x03\x04": "a ZIP archive", b"\x1f\x8b": "gzip data",
                b"\x7fELF": "an executable"}
CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 12, 13, 27))


def binary_content(body: bytes) -> str | None:
    """What a body served as a page really is, when it is not text: a known
    binary format, or bytes that are mostly not characters. lxml would turn
    them into replacement characters and the "article" would be garbage."""
    head = body[:8192]
    for magic, what in BINARY_MAGIC.items():
        if head.startswith(magic):
            return what
    if is_image_bytes(head):
        return "an image"
    controls = len(head) - len(head.translate(None, CONTROL_BYTES))  # one pass, not one per byte value
    if head and (b"\x00" in head or controls > 0.05 * len(head)):
        return "binary data"
    return None


def is_image_bytes(head: bytes) -> bool:
    return head.startswith(IMAGE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP") \
        or head[4:12] in (b"ftypavif", b"ftypheic")
