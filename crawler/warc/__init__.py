"""WARC output: record building, file naming and rotation, CDXJ index."""
