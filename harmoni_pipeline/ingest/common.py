"""What every parser returns, the rule vocabulary, and the one error for unreadable files.

Room: the shared contract between the format parsers (``survey``, ``fkdm``, ``stats``)
and the ingestion runner. No parsing logic lives here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# data-contracts §3.4: the only rule names that may appear in audit.rejected_rows.
RULES = (
    "missing_field",
    "invalid_value",
    "invalid_date",
    "out_of_scale",
    "age_out_of_range",
    "unknown_region",
    "ambiguous_region",
    "out_of_scope",
    "date_order",
    "duplicate_in_file",
    "empty_response",
)

REJECTED_COLUMNS = ["line", "rule", "column", "value", "message"]


class UnreadableFile(Exception):
    """A landing file that cannot be parsed at all (not a single row can be trusted).

    ``str(exc)`` is the one-line reason shown to the user: it names the file."""

    def __init__(self, path: str, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    def __reduce__(self):  # picklable (files may be parsed in worker processes)
        return (type(self), (self.path, self.reason))


@dataclass
class ParsedFile:
    """The outcome of parsing one landing file.

    - ``format``: the detected layout (``canonical``, ``google_forms``, ``kobo``,
      ``fkdm``, ``long_csv``, ``bps_json``, ``dalam_angka``).
    - ``rows_read``: data rows in the file (contract §3.3 says what a row is).
    - ``accepted``: canonical rows, one per accepted input row, with a ``line`` column
      (physical CSV line, header = 1; XLSX sheet row; NULL for JSON).
    - ``rejected``: one row per (input row, broken rule), columns ``REJECTED_COLUMNS``;
      personal values appear only as pseudonyms.
    - ``warnings``: human-readable notes that do not reject anything.
    - ``ignored_columns``: headers of the file that no rule reads and nothing stores
      (named, never their values), in file order.
    - ``date_order``: for a column of ``a/b/yyyy`` timestamps, which order was read and
      why (one sentence); ``None`` where the file has none.

    - ``input_rows_accepted``: input rows accepted, where one input row does not give
      exactly one canonical row (statistics: a "Dalam Angka" row with a ``…`` cell gives
      none, a five-year population group is split over two bands); ``None`` = one each.

    Invariant: ``rows_read == rows_accepted + rows_rejected``.
    """

    format: str
    rows_read: int
    accepted: pd.DataFrame
    rejected: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    input_rows_accepted: int | None = None
    ignored_columns: list[str] = field(default_factory=list)
    date_order: str | None = None

    def audit_notes(self) -> list[str]:
        """What ``audit.source_files.warnings`` records for the file: its warnings, then
        the columns ignored and the date order read."""
        notes = list(self.warnings)
        if self.ignored_columns:
            notes.append(ignored_columns_note(self.ignored_columns))
        if self.date_order:
            notes.append(self.date_order)
        return notes

    @property
    def rows_accepted(self) -> int:
        return len(self.accepted) if self.input_rows_accepted is None else self.input_rows_accepted

    @property
    def rows_rejected(self) -> int:
        if self.rejected.empty:
            return 0
        key = "line" if self.rejected["line"].notna().all() else "column"
        return int(self.rejected.drop_duplicates(subset=[key])[key].shape[0])


IGNORED_SHOWN = 20  # names listed in one note; a header can be a long question text
IGNORED_NAME_CHARS = 60


def ignored_column_names(columns: list[str]) -> str:
    """``'a', 'b' and 3 more`` — names only, each shortened to one line."""
    def short(name: str) -> str:
        text = " ".join(str(name).split())
        return repr(text if len(text) <= IGNORED_NAME_CHARS else text[: IGNORED_NAME_CHARS - 1] + "…")

    more = f" and {len(columns) - IGNORED_SHOWN} more" if len(columns) > IGNORED_SHOWN else ""
    return ", ".join(short(c) for c in columns[:IGNORED_SHOWN]) + more


def ignored_columns_note(columns: list[str]) -> str:
    """``2 column(s) ignored, never stored: 'a', 'b'``."""
    return f"{len(columns)} column(s) ignored, never stored: {ignored_column_names(columns)}"


def input_row_keys(rejected: pd.DataFrame) -> pd.Series:
    """Which input row each audit row is about: the line (and, in a workbook, the sheet —
    the ``Sheet!…`` prefix of ``column``); for JSON, where ``line`` is NULL, the
    ``datacontent`` key held in ``column``. Several audit rows (rules) of one input row
    share a key."""
    column = rejected["column"].astype("string")
    sheet = column.str.extract(r"^(.*)!", expand=False).fillna("")
    by_line = rejected["line"].astype("Int64").astype("string") + "|" + sheet
    return by_line.where(rejected["line"].notna(), "key:" + column.fillna(""))


def empty_rejected() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "line": pd.Series(dtype="Int64"),
            "rule": pd.Series(dtype="string"),
            "column": pd.Series(dtype="string"),
            "value": pd.Series(dtype="string"),
            "message": pd.Series(dtype="string"),
        }
    )


def flagged_rows(mask) -> np.ndarray:
    """Positions where ``mask`` (a boolean array or Series, or anything pandas reads as
    nullable booleans; NA counts as not flagged) is true."""
    if isinstance(mask, np.ndarray) and mask.dtype == bool:
        flags = mask
    elif isinstance(mask, pd.Series) and mask.dtype == bool:
        flags = mask.to_numpy()
    else:
        flags = pd.Series(mask, dtype="boolean").fillna(False).to_numpy(dtype=bool)
    return np.flatnonzero(flags)


class Rejections:
    """Collects rejected (row, rule) pairs while a parser checks its rules column-wise.

    Each ``add`` takes a boolean mask over the file's rows (aligned with ``lines``);
    nothing is evaluated row by row. ``values`` is the raw column to echo; pass the
    pseudonymised column for personal data — never the raw one.
    """

    def __init__(self, lines: pd.Series):
        self._lines = pd.Series(lines, dtype="Int64").reset_index(drop=True)
        self._parts: list[tuple] = []  # (positions, rule, column, values, message)
        self._bad = np.zeros(len(self._lines), dtype=bool)

    @property
    def bad(self) -> pd.Series:
        """Whether each row breaks at least one rule so far (bool, aligned with ``lines``)."""
        return pd.Series(self._bad, index=self._lines.index, copy=False)

    @staticmethod
    def _at(values, rows: np.ndarray) -> pd.Series:
        """``values`` (a Series, array or list aligned with the rows) at positions ``rows``,
        as strings; only those rows are converted."""
        if isinstance(values, pd.Series):
            picked = values.iloc[rows]
        else:
            picked = pd.Series(values).iloc[rows]
        return picked.astype("string").reset_index(drop=True)

    def add(self, mask, rule: str, column, values=None, message="") -> None:
        """``column`` is a column name, or a Series per row (JSON: the datacontent key);
        ``message`` is one text, or a Series per row (e.g. a resolver's message)."""
        if rule not in RULES:
            raise ValueError(f"unknown rule {rule!r}")
        rows = flagged_rows(mask)
        if not rows.size:
            return
        # kept as parts (positions, then each column as one text or the rows' values) and
        # assembled once in ``frame``: a DataFrame per rule and file cost more than the rule
        self._parts.append(
            (
                rows,
                rule,
                self._at(column, rows) if isinstance(column, pd.Series) else column,
                None if values is None else self._at(values, rows),
                self._at(message, rows).fillna(rule) if isinstance(message, pd.Series) else message,
            )
        )
        self._bad[rows] = True

    def frame(self) -> pd.DataFrame:
        if not self._parts:
            return empty_rejected()
        rows = np.concatenate([part[0] for part in self._parts])

        def texts(i: int) -> pd.arrays.StringArray:
            pieces = []
            for part in self._parts:
                given = part[i]
                if isinstance(given, pd.Series):
                    pieces.append(given.to_numpy(dtype=object, na_value=None))
                else:
                    pieces.append(np.full(part[0].size, given, dtype=object))
            return pd.array(np.concatenate(pieces), dtype="string")

        out = pd.DataFrame(
            {
                "line": self._lines.iloc[rows].reset_index(drop=True),
                "rule": texts(1),
                "column": texts(2),
                "value": texts(3),
                "message": texts(4),
            }
        )
        return out.astype(
            {"line": "Int64", "rule": "string", "column": "string", "value": "string", "message": "string"}
        ).sort_values(["line", "rule"], kind="stable", ignore_index=True)
