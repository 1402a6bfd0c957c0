"""The domain, pure: Markdown in the seed format, the text digest, timestamps, failures, encodings; no Scrapy and no I/O."""
