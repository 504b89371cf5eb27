"""Dagster asset declarations, thin: each reads its inputs, calls a domain function from
``harmoni_pipeline`` and returns what it did as metadata."""
