"""Revisit records for a refresh: an unchanged payload is not stored twice.

Two cases, each checked against pywb 2.10 (tests/test_revisit_replay.py):

* **200 with the byte-identical payload** (a server that sends no
  validators): one ``revisit`` record with the identical-payload-digest
  profile. Its block is the new status line and headers, no body (warcio
  writes revisits header-only); ``WARC-Payload-Digest`` is the original's
  and ``WARC-Refers-To``, ``-Target-URI`` and ``-Date`` name the original
  ``response``. pywb serves the new headers with the original's payload.

* **304 Not Modified** to a conditional request. The WARC profile made for
  it, server-not-modified, holds the 304 in its block in the standard's own
  example; but pywb 2.10 answers any revisit whose block says 3xx with that
  status and an empty body (``ResolvingLoader.load_headers_and_payload``
  skips the payload lookup for 3xx), and it takes the closest capture
  without skipping 304s, so the article would be unplayable at that time
  and as the latest capture. A 304 kept as a ``response`` record replays
  the same way. What works and stays honest is two records:

  - a server-not-modified ``revisit`` with **no block**, which the
    standard allows (Content-Length 0; its payload is "the original payload
    content from which a Last-Modified and/or ETag value was taken"). It
    asserts no status of its own. pywb finds no HTTP headers in it, looks
    the original up by ``WARC-Refers-To-Target-URI`` and ``-Date`` and
    serves its status, headers and payload, dated at the revisit: 200 and
    the full text. No ``WARC-Payload-Digest``: nothing was digested at this
    visit, and warcio's record validator forbids it on this profile;
  - a ``metadata`` record (``application/warc-fields``, concurrent to the
    revisit) holding what the server said: its status line and every header
    line as received. Both cdxj-indexer and pywb's cdx-indexer skip this
    content type, so it never stands in for the page.

Profile URIs follow the builder's WARC version (1.0 or 1.1), as warcio
does for the identical-payload-digest one.
"""

from __future__ import annotations

from io import BytesIO

from warcio.utils import Digester

from crawler.warc.records import _header_list, response_record

SERVER_NOT_MODIFIED = "server-not-modified"


def profile_uri(builder, profile: str) -> str:
    """The revisit profile URI for the builder's WARC version."""
    version = "1.1" if builder.warc_version == "WARC/1.1" else "1.0"
    return f"http://netpreserve.org/warc/{version}/revisit/{profile}"


def payload_digest(body: bytes) -> str:
    """``sha1:BASE32`` of a body, as warcio writes it in ``WARC-Payload-Digest``
    for a response whose stored body is ``body``."""
    digester = Digester("sha1")
    digester.update(body or b"")
    return str(digester)


def _refers_to(original: dict) -> dict:
    return {
        "WARC-Refers-To": original["record_id"],
        "WARC-Refers-To-Target-URI": original["uri"],
        "WARC-Refers-To-Date": original["date"],
    }


def identical_revisit_record(builder, response, original: dict, via_proxy: bool = False):
    """A revisit for a 200 whose payload equals the original's.

    The status line and headers are built exactly as ``response_record``
    builds them; the body is left out (``WARC-Truncated: length``, as the
    standard asks of a revisit block cut to avoid the duplicate content).
    Raises ``ValueError`` if the payload differs: that is a new capture.
    """
    full = response_record(builder, response, via_proxy=via_proxy)
    digest = full.rec_headers.get_header("WARC-Payload-Digest")
    if digest != original["payload_digest"]:
        raise ValueError(f"payload of {response.url} changed ({digest} != {original['payload_digest']})")
    warc_headers = {"WARC-Refers-To": original["record_id"], "WARC-Truncated": "length"}
    ip = full.rec_headers.get_header("WARC-IP-Address")
    if ip:
        warc_headers["WARC-IP-Address"] = ip
    # warcio adds WARC-Profile (for the builder's WARC version), -Refers-To-Target-URI/-Date
    return builder.create_revisit_record(
        response.url, digest, original["uri"], original["date"],
        http_headers=full.http_headers, warc_headers_dict=warc_headers,
    )


def not_modified_records(builder, response, original: dict, via_proxy: bool = False) -> list:
    """The records for a 304 answer: an empty server-not-modified revisit
    (what replay serves: the original) and a metadata record with the 304's
    status line and headers (what the server said). Write them in order."""
    # response_record gives the status line and peer address as for any capture;
    # the header lines are taken as received (no Content-Length fix-up: no body)
    seen = response_record(builder, response, via_proxy=via_proxy)
    warc_headers = dict(_refers_to(original))
    warc_headers["WARC-Profile"] = profile_uri(builder, SERVER_NOT_MODIFIED)
    ip = seen.rec_headers.get_header("WARC-IP-Address")
    if ip:
        warc_headers["WARC-IP-Address"] = ip
    revisit = builder.create_warc_record(response.url, "revisit", warc_headers_dict=warc_headers)

    status = seen.http_headers
    lines = [f"http-status-line: {status.protocol} {status.statusline}"]
    lines += [f"http-header: {name}: {value}" for name, value in _header_list(response.headers)]
    data = "".join(line + "\r\n" for line in lines).encode("utf-8", "surrogateescape")
    said = builder.create_warc_record(
        response.url, "metadata", payload=BytesIO(data), length=len(data),
        warc_content_type="application/warc-fields",
        warc_headers_dict={
            "WARC-Date": revisit.rec_headers.get_header("WARC-Date"),
            "WARC-Concurrent-To": revisit.rec_headers.get_header("WARC-Record-ID"),
        },
    )
    return [revisit, said]
