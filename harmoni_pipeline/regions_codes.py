"""Region codes as people write them (Kemendagri dotted, Kobo choice names, compact
digits, BPS codes), the rule names of a resolution, scope tests, and the vectorised
mapping every resolver uses (each distinct value resolved once, mapped back).

Room: the code rules of :mod:`harmoni_pipeline.regions` (``docs/ingestion.md``, *Regions*).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import pandas as pd

MISSING_FIELD = "missing_field"
UNKNOWN_REGION = "unknown_region"
AMBIGUOUS_REGION = "ambiguous_region"
OUT_OF_SCOPE = "out_of_scope"
#: The rules a ``resolve_*`` method can report (a subset of contract §3.4's vocabulary).
RULES = (MISSING_FIELD, UNKNOWN_REGION, AMBIGUOUS_REGION, OUT_OF_SCOPE)

ALL = "ALL"
#: number of dots in a code -> level name
LEVELS = ("provinsi", "kabupaten", "kecamatan", "desa")
_LEVEL_LABEL = {"provinsi": "province", "kabupaten": "kabupaten/kota", "kecamatan": "kecamatan", "desa": "desa/kelurahan"}


_MAX_LISTED = 5  # codes listed in a message


_SEP_CODE = re.compile(r"\d{2}(?:[._]\d{2}(?:[._]\d{2}(?:[._]\d{4})?)?)?")
_DIGITS = re.compile(r"\d+")
_FLOAT_ARTEFACT = re.compile(r"(\d{4,10})\.0+")
_CODE_LIKE = re.compile(r"[\d._\s]+")
_COMPACT_SPLITS = {2: (2,), 4: (2, 2), 6: (2, 2, 2), 10: (2, 2, 2, 4)}

# parsed kinds
_MISSING, _CODE, _BPS, _BADCODE, _NAME = "missing", "code", "bps", "badcode", "name"


def _as_text(value: Any) -> str | None:
    """The value as stripped text; None when it is NA or blank."""
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        return s or None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    s = str(value).strip()
    return s or None


def _parse(value: Any) -> tuple[str, str | None, str | None]:
    """(kind, canonical code or digits, text). kind: missing | code | bps | badcode | name."""
    text = _as_text(value)
    if text is None:
        return _MISSING, None, None
    s = text
    m = _FLOAT_ARTEFACT.fullmatch(s)
    if m:
        s = m.group(1)
    if _SEP_CODE.fullmatch(s):
        return _CODE, s.replace("_", "."), text
    if _DIGITS.fullmatch(s):
        if len(s) == 7:
            return _BPS, s, text
        widths = _COMPACT_SPLITS.get(len(s))
        if widths is None:
            return _BADCODE, None, text
        parts, pos = [], 0
        for w in widths:
            parts.append(s[pos : pos + w])
            pos += w
        return _CODE, ".".join(parts), text
    if _CODE_LIKE.fullmatch(s):
        return _BADCODE, None, text
    return _NAME, None, text


def _level(code: str) -> str:
    return LEVELS[code.count(".")]


def _within(code: str, prefixes: Sequence[str] | None) -> bool:
    """Whether ``code`` lies in one of ``prefixes`` (whole segments); None = everywhere."""
    if prefixes is None:
        return True
    for p in prefixes:
        if code == p or code.startswith(p + "."):
            return True
    return False


def _quote(text: str | None, limit: int = 60) -> str:
    text = "" if text is None else str(text)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return "'" + text + "'"


def _list_codes(codes: Sequence[str]) -> str:
    shown = ", ".join(codes[:_MAX_LISTED])
    return shown + (", ..." if len(codes) > _MAX_LISTED else "")


_Result = tuple  # (kode, rule, message[, extra...])
_OK_NONE: _Result = (None, None, None)




def _as_series(values: Any) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, (pd.Index, np.ndarray, list, tuple)):
        return pd.Series(list(values) if isinstance(values, tuple) else values)
    raise TypeError(f"expected a pandas Series, got {type(values).__name__}")


def _aligned(other: pd.Series, values: pd.Series) -> pd.Series:
    """``other`` row-aligned with ``values``: by label when both indexes are unique and
    hold the same labels, else by position (then the lengths must agree)."""
    if not other.index.equals(values.index) and other.index.is_unique and values.index.is_unique:
        if len(other) == len(values) and other.index.isin(values.index).all():
            return other.reindex(values.index)
    if len(other) != len(values):
        raise ValueError("the context Series must be aligned with values (same length)")
    return other


def _hashable(value: Any) -> Hashable:
    try:
        hash(value)
        return value
    except TypeError:
        return repr(value)


_COLUMNS = ["kode", "rule", "message"]
# ``message`` is a "string" column too, but backed by Python objects: a million long
# messages taken from a few hundred distinct ones then share their strings instead of
# copying ~100 MB into Arrow buffers. ``kode``/``rule`` use the default "string" storage so
# that merges on ``kode`` with other "string" columns keep the dtype.
_MESSAGE_DTYPE = pd.StringDtype("python")


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[Any]]:
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    return np.asarray(codes, dtype=np.int64), list(np.asarray(uniques, dtype=object))


def _frame(index: pd.Index, ids: np.ndarray, results: list[_Result], columns: list[str]) -> pd.DataFrame:
    """One row per input: the distinct results (small) taken along ``ids`` (long)."""
    data = {
        name: pd.array([r[i] for r in results], dtype=_MESSAGE_DTYPE if name == "message" else "string").take(ids)
        for i, name in enumerate(columns)
    }
    return pd.DataFrame(data, index=index)


def _map_distinct(values: pd.Series, fn: Callable[[Any], _Result], columns: list[str] = _COLUMNS) -> pd.DataFrame:
    ids, uniques = _factorize(values)
    return _frame(values.index, ids, [fn(u) for u in uniques], columns)


def _map_distinct_pairs(
    values: pd.Series, other: pd.Series, fn: Callable[[Any, Any], _Result], columns: list[str] = _COLUMNS
) -> pd.DataFrame:
    other = _aligned(other, values)
    vid, vuniq = _factorize(values)
    oid, ouniq = _factorize(other)
    base = max(len(ouniq), 1)
    ids, pairs = pd.factorize(vid * base + oid)
    results = [fn(vuniq[p // base], ouniq[p % base]) for p in np.asarray(pairs, dtype=np.int64)]
    return _frame(values.index, np.asarray(ids, dtype=np.int64), results, columns)
