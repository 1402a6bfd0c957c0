"""Scrapy extensions: crawl summary, WARC index."""
