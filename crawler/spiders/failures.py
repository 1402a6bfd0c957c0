"""Why a request failed, said plainly: a kind to count it by, and a reason to read.

Scrapy's failures name an exception class and, for some, nothing else (a
download over the size limit is a bare ``DownloadCancelledError``); a name
the guarded resolver refused says only that it found no address. The
summary groups failed URLs by kind, so the kind never carries URL detail.
"""

from __future__ import annotations

from scrapy.exceptions import DownloadCancelledError

from crawler.resolver import blocked_lookup


def failure_reason(failure, settings) -> tuple[str, str]:
    """(kind, reason) for a request's failure."""
    exc = failure.value
    kind = type(exc).__name__
    message = failure.getErrorMessage()
    if isinstance(exc, DownloadCancelledError) or kind == "CancelledError":
        request = getattr(failure, "request", None)
        limit = (request.meta.get("download_maxsize") if request is not None else None) \
            or settings.getint("DOWNLOAD_MAXSIZE")
        return "size limit", f"response larger than DOWNLOAD_MAXSIZE ({limit} bytes): download cancelled"
    if "DOWNLOAD_MAXSIZE" in message:  # decompressed past the limit (HttpCompressionMiddleware)
        return "size limit", message
    if kind == "BlockedRequest" or kind == "BlockedAddressError":
        return "blocked address", message
    if kind in ("DNSLookupError", "CannotResolveHostError"):  # the guarded resolver gave no address: say why
        reason = blocked_lookup(message)
        if reason:
            return "blocked address", reason
    reasons = getattr(exc.__cause__, "reasons", None)  # Twisted's ResponseFailed, which Scrapy wraps
    if reasons:
        said = "; ".join(f"{type(r.value).__name__}: {r.getErrorMessage()}" if hasattr(r, "getErrorMessage")
                         else str(r) for r in reasons)
        return kind, f"{kind}: no whole response ({said})"
    return kind, f"{kind}: {message}" if message else kind
