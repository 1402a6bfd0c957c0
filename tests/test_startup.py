"""What every start of a crawl pays for before its first page.

A cron job starts the crawler every day, and a crawl of a few hundred pages
spends a third of its time starting: what it loads and does not use is
measured in every run (bench/throughput.py at 181 pages).
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_scrapy_s_remote_control_and_telnet_console_are_not_even_imported():
    """They are off (no console runs code in a crawl), and Scrapy imports an
    extension that is off to read its name: the remote control's import loads
    aiohttp, 0.1 s of every start. The project's extension list leaves both
    out, and keeps every other of Scrapy's own."""
    code = """
import sys
from scrapy.settings import Settings, default_settings
import crawler.settings
settings = Settings()
settings.setmodule(crawler.settings, priority="project")
names = set(settings.get_component_priority_dict_with_base("EXTENSIONS"))
scrapy_s = set(default_settings.EXTENSIONS_BASE)
print(sorted(scrapy_s - names))
print("scrapy.extensions.remote_control" in sys.modules, "aiohttp" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    left_out, imported = out.splitlines()
    assert left_out == str(["scrapy.extensions.remote_control.RemoteControl",
                            "scrapy.extensions.telnet.TelnetConsole"])
    assert imported == "False False"
