"""The IHaI × IKN integration per kecamatan, methodology §4: quadrant, recommendation,
the reason a quadrant is NULL, and the responsible position from the assignment table.

Room: joining the two kecamatan marts and reading the maintained assignment table
``landing/reference/penanggung_jawab.csv`` (its file contract is in docs/scoring.md).
A kecamatan without an assignment gets NULL and is reported, never invented.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology

ASSIGNMENT_FILE = Path("reference") / "penanggung_jawab.csv"
ASSIGNMENT_COLUMNS = ("kode_kecamatan", "penanggung_jawab")


# Quadrant names are fixed labels; their recommendation texts come from the YAML.
QUADRANTS = ["harmonis-aman", "harmonis-rawan", "kurang-harmonis-aman", "kurang-harmonis-rawan"]


class AssignmentError(ValueError):
    """The assignment table breaks its file contract; the message names file and line."""


@dataclass
class Assignments:
    path: Path | None
    sha256: str | None
    table: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_assignments(landing: Path, known_codes: set[str]) -> Assignments:
    """Read ``landing/reference/penanggung_jawab.csv`` (UTF-8, comma, header
    ``kode_kecamatan,penanggung_jawab``). A missing file means no assignments; a repeated
    or malformed code, or an empty position, is an :class:`AssignmentError`; a code
    outside the reference list is a warning (the row is ignored)."""
    import hashlib

    path = Path(landing) / ASSIGNMENT_FILE
    if not path.is_file():
        return Assignments(None, None, warnings=[f"{ASSIGNMENT_FILE} is missing: no kecamatan has a penanggung_jawab"])
    data = path.read_bytes()
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    if not rows or tuple(c.strip().lower() for c in rows[0][:2]) != ASSIGNMENT_COLUMNS:
        raise AssignmentError(f"{ASSIGNMENT_FILE}: line 1: expected the header {','.join(ASSIGNMENT_COLUMNS)}")
    result = Assignments(path, hashlib.sha256(data).hexdigest())
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        code = row[0].strip() if row else ""
        position = row[1].strip() if len(row) > 1 else ""
        if not position:
            raise AssignmentError(f"{ASSIGNMENT_FILE}: line {line}: empty penanggung_jawab for {code!r}")
        if code in seen:
            raise AssignmentError(f"{ASSIGNMENT_FILE}: line {line}: {code} is assigned again (first on line {seen[code]})")
        seen[code] = line
        if code not in known_codes:
            result.warnings.append(f"{ASSIGNMENT_FILE}: line {line}: {code!r} is not a kecamatan code; row ignored")
            continue
        result.table[code] = position
    return result


def harmoni_kewaspadaan(ihai: pd.DataFrame, ikn: pd.DataFrame, assignments: dict[str, str], methodology: Methodology) -> pd.DataFrame:
    """One row per kecamatan: ``kode_kecamatan, ihai, ikn, kerawanan, tingkat_kerawanan,
    kuadran, rekomendasi, penanggung_jawab, alasan_null`` (names are added by the marts)."""
    spec = methodology.integration
    left = ihai[["kode_kecamatan", "ihai", "status"]].rename(columns={"status": "status_ihai"})
    right = ikn[["kode_kecamatan", "ikn", "kerawanan", "tingkat_kerawanan", "status"]].rename(columns={"status": "status_ikn"})
    out = left.merge(right, on="kode_kecamatan", how="outer", validate="one_to_one")
    harmonis = (out["ihai"] >= float(spec["harmonis_threshold"])).fillna(False).to_numpy(dtype=bool)
    rawan = (out["tingkat_kerawanan"] == methodology.risk_bands.labels[0]).fillna(False).to_numpy(dtype=bool)
    known = out["ihai"].notna() & out["tingkat_kerawanan"].notna()
    choice = np.select(
        [harmonis & ~rawan, harmonis & rawan, ~harmonis & ~rawan, ~harmonis & rawan],
        QUADRANTS, default="",
    )
    out["kuadran"] = pd.Series(choice, index=out.index, dtype="string").where(known.to_numpy())
    out["rekomendasi"] = out["kuadran"].map(spec["quadrants"]).astype("string")
    ihai_reason = ("ihai:" + out["status_ihai"].astype("string")).where(out["ihai"].isna())
    ikn_reason = ("ikn:" + out["status_ikn"].astype("string")).where(out["tingkat_kerawanan"].isna())
    reason = ihai_reason.fillna("") + np.where(ihai_reason.notna() & ikn_reason.notna(), "; ", "") + ikn_reason.fillna("")
    out["alasan_null"] = reason.astype("string").replace("", pd.NA)
    out["penanggung_jawab"] = out["kode_kecamatan"].map(assignments).astype("string")
    return out[["kode_kecamatan", "ihai", "ikn", "kerawanan", "tingkat_kerawanan", "kuadran", "rekomendasi", "penanggung_jawab", "alasan_null"]]
