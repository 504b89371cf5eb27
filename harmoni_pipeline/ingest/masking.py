"""Personal-looking text masked before it is stored: free-text staging columns and the
values echoed in ``audit.rejected_rows``.

Room: recognising three kinds of personal data inside free text and replacing them
with a placeholder, column-wise (pyarrow regular expressions, RE2 syntax — no Python
loop over values), and shortening the audit's echoed values. Personal *columns* (NIK,
e-mail, phone of the respondent or reporter) never reach this point: the parsers turn
them into pseudonyms (:mod:`harmoni_pipeline.pii`). This is for personal data typed into
the wrong place — a phone number in ``pekerjaan``, an e-mail in an answer cell.

What is masked (in this order):
- a NIK: 16 digits standing alone → ``[nik]``;
- a phone number: ``08`` followed by 7–11 digits, or ``+62`` followed by 8–12 digits
  (9–13 digits in the national form), a single space or dash allowed between digits,
  not followed by another digit or letter → ``[telepon]``;
- an e-mail address ``name@domain.tld`` → ``[email]``.

Names cannot be recognised reliably and are not masked. Columns that hold codes or ids
(``CODE_COLUMNS``: region codes, ``no_laporan``, response ids) are echoed as they are.
An echoed value longer than ``AUDIT_VALUE_MAX_CHARS`` is cut there and ends with ``…``.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PATTERNS = (
    (r"\b[0-9]{16}\b", "[nik]"),
    (r"(?:\+62(?:[ -]?[0-9]){8,12}|\b08(?:[ -]?[0-9]){7,11})\b", "[telepon]"),
    (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", "[email]"),
)
CODE_COLUMNS = frozenset({"kode_kecamatan", "kode_desa", "kode_wilayah", "no_laporan", "response_id", "_uuid"})
AUDIT_VALUE_MAX_CHARS = 200


def mask_personal(values: pd.Series) -> pd.Series:
    """``values`` with NIKs, phone numbers and e-mail addresses replaced (module
    docstring); missing values stay missing."""
    if values.empty:
        return values.astype("string")
    text = pa.array(values.astype("string").array, type=pa.large_string())
    has_digit_or_at = pc.match_substring_regex(text, r"[0-9]{7}|@|\+62")
    if not pc.any(has_digit_or_at).as_py():
        return values.astype("string")
    for pattern, placeholder in PATTERNS:
        text = pc.replace_substring_regex(text, pattern=pattern, replacement=placeholder)
    return pd.Series(pd.arrays.ArrowStringArray(pc.cast(text, pa.string())), index=values.index, dtype="string")


def shorten(values: pd.Series, limit: int = AUDIT_VALUE_MAX_CHARS) -> pd.Series:
    """Values longer than ``limit`` characters cut to ``limit`` and ended with ``…``."""
    values = values.astype("string")
    long = (values.str.len() > limit).fillna(False)
    if not long.any():
        return values
    return values.mask(long, values.str.slice(0, limit) + "…")


def mask_rejected(rejected: pd.DataFrame) -> pd.DataFrame:
    """``audit.rejected_rows`` values of a parse: masked unless their column holds codes
    or ids, and shortened."""
    if rejected.empty:
        return rejected
    column = rejected["column"].astype("string").str.strip().str.casefold()
    keep = column.isin(CODE_COLUMNS).fillna(False).to_numpy()
    value = rejected["value"].astype("string")
    masked = value.copy()
    if (~keep).any():
        masked[~keep] = mask_personal(value[~keep])
    return rejected.assign(value=shorten(masked))
