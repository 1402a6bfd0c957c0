"""Views of the archive built from its files (the Hugo site)."""
