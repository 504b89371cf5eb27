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

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PII_KINDS = ("email", "phone", "nik", "name")

# What ``str.strip``/``\s`` treat as whitespace among ASCII characters (Python's
# ``str.isspace``: also the four separators 0x1C–0x1F), spelled out for pyarrow, whose
# own notion of whitespace differs.
_ASCII_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f"
_ASCII_SPACE_RUN = "[\t\n\x0b\x0c\r\x1c-\x1f ]+"


def _normalise_ascii(values: pa.Array, kind: str) -> pa.Array:
    """:func:`normalise_pii` of ASCII-only strings, column-wise (for ASCII text NFKC is
    the identity and ``casefold`` is ``lower``)."""
    text = pc.utf8_trim(values, characters=_ASCII_SPACE)
    if kind == "email":
        return pc.ascii_lower(text)
    if kind in ("phone", "nik"):
        digits = pc.replace_substring_regex(text, pattern="[^0-9]", replacement="")
        if kind == "nik":
            return digits
        return pc.if_else(
            pc.starts_with(digits, "62"),
            pc.binary_join_element_wise("0", pc.utf8_slice_codeunits(digits, 2), ""),
            pc.if_else(pc.starts_with(digits, "8"), pc.binary_join_element_wise("0", digits, ""), digits),
        )
    return pc.ascii_lower(pc.replace_substring_regex(text, pattern=_ASCII_SPACE_RUN, replacement=" "))


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


def key_id(key: str | bytes) -> str:
    """The fingerprint of a PII key recorded as ``pii_key_id`` beside every pseudonym: it
    tells which key made them without revealing the key."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    return hashlib.sha256(b"harmoni-pii-key-id:" + key).hexdigest()[:12]


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
        self.key_id = key_id(key)

    def pseudonym(self, value: object, kind: str) -> str | None:
        """Pseudonym of one value; ``None`` for a missing or blank value."""
        if value is None or (isinstance(value, float) and value != value):
            return None
        text = normalise_pii(str(value), kind)
        if not text:
            return None
        return self._mac(f"{kind}:{text}")

    def _mac(self, message: str) -> str:
        return self.PREFIX + hmac.digest(self._key, message.encode("utf-8"), "sha256").hex()[:32]

    def series(self, values: pd.Series, kind: str) -> pd.Series:
        """:meth:`pseudonym` of every value of a column, the same values as one by one.

        Normalisation is column-wise (pyarrow) for ASCII text and per value otherwise;
        the HMAC, which has no vectorised form, runs once per distinct normalised value
        (OpenSSL's one-shot ``hmac.digest``)."""
        values = values.astype("string")
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        if not len(uniques):
            return pd.Series(pd.NA, index=values.index, dtype="string")
        raw = pa.array(np.asarray(uniques, dtype=object), type=pa.string())
        ascii_only = pc.fill_null(pc.string_is_ascii(raw), False).to_numpy(zero_copy_only=False)
        normalised = np.empty(len(raw), dtype=object)
        if ascii_only.any():
            normalised[ascii_only] = _normalise_ascii(raw.filter(pa.array(ascii_only)), kind).to_numpy(
                zero_copy_only=False
            )
        for i in np.flatnonzero(~ascii_only):
            normalised[i] = normalise_pii(raw[int(i)].as_py(), kind)
        text_codes, texts = pd.factorize(normalised)
        prefix = kind + ":"
        macs = np.array([self._mac(prefix + t) if t else None for t in texts] + [None], dtype=object)
        per_unique = macs[text_codes]  # code -1 (no text) never occurs: every unique is a string
        out = np.append(per_unique, None)[codes]  # values code -1 (NA) → the appended None
        return pd.Series(out, index=values.index, dtype="string")
