"""Scrapy download handlers: browser requests rendered in headless Chromium."""
