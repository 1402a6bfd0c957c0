"""The throughput benchmark's HTTPS page server (CONNECT, TLS from its own CA,
GET) and its process sampler.

Not a benchmark (nothing is timed): only that the server answers as a
proxy does, so that bench/throughput.py --https measures a real TLS crawl,
and that the sampler finds the whole process tree at a small cost.
"""

from __future__ import annotations

import http.client
import ssl

from bench.throughput import PageServer, make_ca


def test_https_page_server_answers_connect_with_tls_from_its_ca(tmp_path):
    url = "https://news7.example/news/7.html"
    ca, cert, key = make_ca(tmp_path, {"news7.example"})
    server = PageServer({url: b"<html><body><p>seven</p></body></html>"}, tls=(cert, key))
    try:
        port = server.server.server_address[1]
        context = ssl.create_default_context(cafile=str(ca))  # verifies the chain and the host name
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=5)
        conn.set_tunnel("news7.example", 443)
        conn.request("GET", "/news/7.html")
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == b"<html><body><p>seven</p></body></html>"
        conn.close()

        # an https:// page is never served in clear, as an absolute-URI GET
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        plain.request("GET", url)
        assert plain.getresponse().status == 400
        plain.close()
    finally:
        server.stop()


def test_the_sampler_follows_the_tree_without_scanning_the_machine_every_time(monkeypatch):
    """bench/proctree.py runs on the cores it measures: the machine's process
    list is read every ``rescan_every`` samples, and a process that starts
    in between (an extraction worker) is still found, with all its CPU."""
    import os
    import subprocess
    import sys
    import time

    from bench import proctree

    spin = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    parent = f"import subprocess, sys\n{spin}subprocess.run([sys.executable, '-c', {spin!r}])\n"
    scans = []
    listdir = os.listdir
    monkeypatch.setattr(proctree.os, "listdir", lambda path: scans.append(path) or listdir(path))
    proc = subprocess.Popen([sys.executable, "-c", parent])
    sampler = proctree.Sampler(proc.pid, rescan_every=5)
    while proc.poll() is None:
        sampler.sample()
        time.sleep(0.01)
    assert len(sampler.cpu) == 2  # the process and the child it started after the first sample
    assert sampler.cpu_main >= 0.25 and sampler.cpu_children >= 0.25
    assert len(scans) <= sampler.samples // 5 + 1
