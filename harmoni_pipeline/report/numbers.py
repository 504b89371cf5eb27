"""Numbers as an Indonesian reader writes them: ``78,5``, ``7.285``, ``12,3 %``.

Room: formatting only (decimal comma, thousands point, a dash for a missing value),
used by the report's templates and maps. No data is read here.
"""

from __future__ import annotations

import math

MISSING = "–"


def _missing(value) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def angka(value, decimals: int = 1) -> str:
    """``78.46`` → ``78,5``; ``7285`` (decimals=0) → ``7.285``; ``None``/NaN → ``–``."""
    if _missing(value):
        return MISSING
    text = f"{float(value):,.{decimals}f}"  # 7,285.5
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def bulat(value) -> str:
    """A count: ``7285`` → ``7.285``."""
    return angka(value, 0)


def persen(value, decimals: int = 1) -> str:
    """A share in 0..1 as a percentage: ``0.123`` → ``12,3 %``."""
    return MISSING if _missing(value) else f"{angka(100.0 * float(value), decimals)} %"


def selisih(value, decimals: int = 1) -> str:
    """A change with its sign: ``+2,4``, ``−1,0`` (a true minus sign), ``0,0``."""
    if _missing(value):
        return MISSING
    v = round(float(value), decimals)
    if v > 0:
        return "+" + angka(v, decimals)
    if v < 0:
        return "\u2212" + angka(-v, decimals)
    return angka(0.0, decimals)


BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember")


def bulan(period: str) -> str:
    """``2025-03`` → ``Maret 2025``."""
    return f"{BULAN[int(period[5:7]) - 1]} {period[:4]}"
