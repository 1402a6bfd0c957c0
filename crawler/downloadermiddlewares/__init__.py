"""Downloader middlewares: one concern per class."""
