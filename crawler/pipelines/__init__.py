"""Item pipelines: Markdown output, WARC metadata records."""
