"""Why a delivery was blocked, in words an operator can act on: which file, how many of
its rows, which rules.

Room: turning a failed expectation on the ``files`` or ``partition`` batch (one row per
landing file; one row per partition) into one line that names the files and counts —
the reason ``harmoni run`` prints and the alert sends (data contract §2: "naming the
check, the file and the count of bad rows"). GX says *that* an expectation failed; the
batch frames and the rejected rows say *where*. Nothing here validates or publishes.
"""

from __future__ import annotations

import pandas as pd

SHOWN = 3  # files named in one line


def _offending(frame: pd.DataFrame, expectation: dict) -> pd.DataFrame:
    """The rows of ``frame`` the expectation finds unexpected (the three kinds the
    delivery suites use; missing values are not unexpected, as in GX)."""
    kwargs = expectation["kwargs"]
    if kwargs.get("row_condition"):
        frame = frame.query(kwargs["row_condition"])
    values = frame[kwargs["column"]]
    kind = expectation["type"]
    if kind == "expect_column_values_to_be_null":
        bad = values.notna()
    elif kind == "expect_column_values_to_be_in_set":
        bad = values.notna() & ~values.isin(kwargs["value_set"])
    elif kind == "expect_column_values_to_be_between":
        number = pd.to_numeric(values, errors="coerce")
        bad = pd.Series(False, index=frame.index)
        if kwargs.get("min_value") is not None:
            bad |= number < kwargs["min_value"]
        if kwargs.get("max_value") is not None:
            bad |= number > kwargs["max_value"]
    else:
        return frame.iloc[0:0]
    return frame[bad.fillna(False).to_numpy(dtype=bool)]


def _rules(rejected: pd.DataFrame, sha256: str | None = None) -> str:
    rows = rejected if sha256 is None else rejected[rejected["sha256"] == sha256]
    rows = rows[rows["rule"] != "out_of_scope"]
    counts = rows["rule"].value_counts()
    return ", ".join(f"{rule} {n}" for rule, n in counts.head(4).items())


def _bound(expectation: dict) -> str:
    kwargs = expectation["kwargs"]
    if kwargs.get("max_value") is not None:
        return f" > {kwargs['max_value']:.0%}"
    if kwargs.get("min_value") is not None:
        return f" < {kwargs['min_value']:.0%}"
    return ""


def delivery_failure(batch: str, expectation: dict, frame: pd.DataFrame, rejected: pd.DataFrame) -> str | None:
    """One line naming what failed: per file (``files``) or for the partition."""
    bad = _offending(frame, expectation)
    if bad.empty:
        return None
    column = expectation["kwargs"]["column"]
    if batch == "partition":
        row = bad.iloc[0]
        if column == "rejected_share":
            rules = _rules(rejected)
            return (f"{int(row['rows_rejected_in_scope'])} of {int(row['rows_counted'])} rows in scope rejected "
                    f"({row['rejected_share']:.1%}{_bound(expectation)}" + (f"; {rules})" if rules else ")"))
        if column == "coverage":
            return (f"{int(row['kecamatan_with_rows'])} of {int(row['kecamatan_in_scope'])} kecamatan in scope have an "
                    f"accepted response ({row['coverage']:.1%}{_bound(expectation)})")
        return f"{column} = {row[column]}"
    parts = []
    for _, row in bad.head(SHOWN).iterrows():  # at most SHOWN files: not a loop over data rows
        if column == "error":
            parts.append(f"{row['path']}: {row['error']}")
        elif column == "rejected_share":
            rules = _rules(rejected, row["sha256"])
            parts.append(f"{row['path']}: {int(row['rows_rejected_in_scope'])} of {int(row['rows_counted'])} rows "
                         f"rejected ({row['rejected_share']:.1%}{_bound(expectation)}" + (f"; {rules})" if rules else ")"))
        elif column == "balanced":
            parts.append(f"{row['path']}: rows_read {row['rows_read']} ≠ accepted {row['rows_accepted']} + "
                         f"rejected {row['rows_rejected']}")
        else:
            parts.append(f"{row['path']}: {column} = {row[column]}")
    more = f" and {len(bad) - SHOWN} more files" if len(bad) > SHOWN else ""
    return "; ".join(parts) + more


