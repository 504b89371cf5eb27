"""Ingestion: landing files → canonical staging rows plus the audit of every row."""
