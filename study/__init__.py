"""Verbatim core: the study data model and its SQLite store (no Qt here)."""

__version__ = "0.1.0"
