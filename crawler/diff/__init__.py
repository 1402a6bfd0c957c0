"""Comparing two versions of an article: paragraphs paired, changes marked inline; as text and as side-by-side HTML."""
