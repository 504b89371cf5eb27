"""Personal data: keyed pseudonyms (HMAC-SHA256 with ``HARMONI_PII_KEY``).

This module is the only place that turns a personal value (name, phone number, email,
NIK) into something that may be stored. Raw values never leave the parser that read
them: parsers call :class:`Pseudonymizer` and drop the raw column. Nothing here knows
about files, Dagster or DuckDB.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

import pandas as pd

PII_KINDS = ("email", "phone", "nik", "name")


def normalise_pii(value: str, kind: str) -> str:
    """Canonical spelling of a personal value, so that ``0812-3456 789`` and
    ``+62 812 3456789`` get the same pseudonym."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if kind == "email":
        return text.lower()
    if kind == "phone":
        digits = re.sub(r"\D", "", text)
        if digits.startswith("62"):
            digits = "0" + digits[2:]
        elif digits.startswith("8"):
            digits = "0" + digits
        return digits
    if kind == "nik":
        return re.sub(r"\D", "", text)
    return re.sub(r"\s+", " ", text).casefold()


class Pseudonymizer:
    """HMAC-SHA256 pseudonyms under one key; ``key_id`` fingerprints the key so that a
    key rotation is visible in every output that holds pseudonyms."""

    PREFIX = "pii:"

    def __init__(self, key: str | bytes):
        if isinstance(key, str):
            key = key.encode("utf-8")
        if not key:
            raise ValueError("the PII key must not be empty")
        self._key = key
        self.key_id = hashlib.sha256(b"harmoni-pii-key-id:" + key).hexdigest()[:12]

    def pseudonym(self, value: object, kind: str) -> str | None:
        """Pseudonym of one value; ``None`` for a missing or blank value."""
        if value is None or (isinstance(value, float) and value != value):
            return None
        text = normalise_pii(str(value), kind)
        if not text:
            return None
        mac = hmac.new(self._key, f"{kind}:{text}".encode("utf-8"), hashlib.sha256)
        return self.PREFIX + mac.hexdigest()[:32]

    def series(self, values: pd.Series, kind: str) -> pd.Series:
        """Vectorised over the distinct values of a column (a column has few of them
        relative to its rows, and HMAC has no vectorised form)."""
        values = values.astype("string")
        uniques = values.dropna().unique()
        mapping = {v: self.pseudonym(v, kind) for v in uniques}
        return values.map(mapping).astype("string")
