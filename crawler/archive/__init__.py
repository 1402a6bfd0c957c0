"""The archive's files: atomic writes inside the archive, the run lock, article versions, the change log."""
