"""Pages that need a browser: when to use it, its work folder, the renderer, and what it fetched as WARC records."""
