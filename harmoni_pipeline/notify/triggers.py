"""Which alerts the published tables hold: red FKDM reports, kecamatan turning rawan,
and each position's monthly digest.

Room: reading published partitions only (the staging FKDM partition a run's gate has
published, a month's marts snapshot) in DuckDB and turning rows into :class:`Alert`s
with their keys. No personal data is read: the reporter's pseudonym and ``ringkasan``
(never stored) are not selected. Who receives an alert is :mod:`.contacts`' and
:mod:`.service`'s.

Keys (the "once" of an alert): red report ``red_report:<no_laporan>:<kualifikasi>`` (an
escalation merah1 → merah2 is news, a status update is not); became rawan
``became_rawan:<kecamatan>:<period>``; digest ``digest:<position>:<period>``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from harmoni_pipeline.periods import month_bounds

RANGE_END_TAG = "harmoni/range_end"  # a run of `harmoni run --from --to`: digests for the range's last month only
RED = ("merah1", "merah2")
REJECTED = "ditolak"
HIGH = "Tinggi"
UNASSIGNED = "(tanpa penanggung jawab)"
FKDM = "staging.fkdm_reports"
IKN = "marts.ikn_kecamatan"
IHAI = "marts.ihai_kecamatan"
QUADRANT = "marts.harmoni_kewaspadaan"


@dataclass(frozen=True)
class Alert:
    kind: str                  # red_report | became_rawan | digest
    key: str
    period: str
    kecamatan: str | None
    position: str | None       # the responsible position (None: unassigned)
    as_of: dt.date             # compared with HARMONI_ALERT_SINCE
    payload: dict = field(default_factory=dict, hash=False, compare=False)
    unassigned: bool = False   # routed to the fallback contact


def period_end(period: str) -> dt.date:
    return month_bounds(period)[1]


def published_months(warehouse) -> list[str]:
    """Months whose marts snapshot holds the quadrant table, oldest first."""
    return sorted(p for p, m in warehouse.manifests("marts").items() if QUADRANT in m.tables)


def _frame(warehouse, table: str, period: str):
    """The published partition of ``table`` as a SQL relation text, or None."""
    current = warehouse.current_file(table, period)
    return None if current is None else f"({warehouse.select_sql(table, files=[current])})"


def _rows(warehouse, sql: str) -> list[dict]:
    con = warehouse.connect()
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]
    finally:
        con.close()


def kecamatan_state(warehouse, period: str) -> dict[str, dict]:
    """Each kecamatan's published IHaI, IKN, risk level, red alert, quadrant, rekomendasi
    and position in ``period`` (empty when the month has no marts)."""
    quadrant, ikn = _frame(warehouse, QUADRANT, period), _frame(warehouse, IKN, period)
    if quadrant is None or ikn is None:
        return {}
    sql = f"""
        SELECT q.kode_kecamatan, q.nama_kecamatan, q.ihai, q.ikn, q.tingkat_kerawanan, k.alert_merah, q.kuadran,
               q.rekomendasi, q.penanggung_jawab
        FROM {quadrant} q LEFT JOIN {ikn} k USING (kode_kecamatan)
        ORDER BY q.kode_kecamatan"""
    rows = _rows(warehouse, sql)
    return {r["kode_kecamatan"]: {**r, "period": period} for r in rows}


def latest_state(warehouse, up_to: str) -> tuple[str | None, dict[str, dict]]:
    """The newest published month ≤ ``up_to`` and its :func:`kecamatan_state`."""
    months = [p for p in published_months(warehouse) if p <= up_to]
    return (months[-1], kecamatan_state(warehouse, months[-1])) if months else (None, {})


def red_reports(warehouse, period: str, positions: dict[str, str], names) -> list[Alert]:
    """The red reports of the published FKDM partition ``period``: per report its latest
    version there (file order, line), when it is merah1/merah2 and not ``ditolak``.
    ``positions``: kecamatan → responsible position (the assignment table);
    ``names(code)``: a region's name."""
    reports = _frame(warehouse, FKDM, period)
    if reports is None:
        return []
    sql = f"""
        SELECT no_laporan, kualifikasi, status, tgl_lapor, tgl_kejadian, kode_kecamatan, kode_desa, bidang,
               jenis_athg, source_path
        FROM {reports}
        QUALIFY row_number() OVER (PARTITION BY no_laporan ORDER BY file_order DESC, line DESC) = 1
            AND kualifikasi IN ('merah1', 'merah2') AND status <> '{REJECTED}'
        ORDER BY tgl_lapor, no_laporan"""
    rows = _rows(warehouse, sql)
    state_period, state = latest_state(warehouse, period)
    alerts = []
    for r in rows:
        kec = r["kode_kecamatan"]
        position = positions.get(kec)
        payload = {**{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()},
                   "nama_kecamatan": names(kec), "nama_desa": names(r["kode_desa"]) if r["kode_desa"] else None,
                   "state_period": state_period, "state": state.get(kec), "period": period}
        alerts.append(Alert("red_report", f"red_report:{r['no_laporan']}:{r['kualifikasi']}", period, kec, position,
                            r["tgl_lapor"] or period_end(period), payload))
    return alerts


def became_rawan(warehouse, period: str) -> list[Alert]:
    """Kecamatan whose ``tingkat_kerawanan`` is Tinggi in ``period`` and was not in the
    previous published month, or whose red alert is new there."""
    current = kecamatan_state(warehouse, period)
    earlier = [p for p in published_months(warehouse) if p < period]
    previous = kecamatan_state(warehouse, earlier[-1]) if earlier else {}
    alerts = []
    for kec, row in current.items():
        before = previous.get(kec) or {}
        high = row["tingkat_kerawanan"] == HIGH and before.get("tingkat_kerawanan") != HIGH
        red = bool(row["alert_merah"]) and not before.get("alert_merah")
        if not (high or red):
            continue
        reasons = (["tingkat kerawanan menjadi Tinggi"] if high else []) + (["alert merah baru"] if red else [])
        payload = {"state": row, "previous": before or None, "previous_period": earlier[-1] if earlier else None,
                   "reasons": reasons, "period": period}
        alerts.append(Alert("became_rawan", f"became_rawan:{kec}:{period}", period, kec, row["penanggung_jawab"],
                            period_end(period), payload))
    return alerts


def digests(warehouse, period: str) -> list[Alert]:
    """One digest per responsible position for ``period`` when it is the newest published
    month (older months never get one): its kecamatan's quadrant, rekomendasi and what
    changed since the previous published month."""
    months = published_months(warehouse)
    if not months or months[-1] != period:
        return []
    current = kecamatan_state(warehouse, period)
    previous_period = months[-2] if len(months) > 1 else None
    previous = kecamatan_state(warehouse, previous_period) if previous_period else {}
    by_position: dict[str | None, list[dict]] = {}
    for kec, row in current.items():
        before = previous.get(kec) or {}
        changes = [f"{label}: {before.get(col)} → {row[col]}" for col, label in
                   (("kuadran", "kuadran"), ("tingkat_kerawanan", "tingkat kerawanan"))
                   if before and before.get(col) != row[col]]
        by_position.setdefault(row["penanggung_jawab"], []).append({**row, "changes": changes})
    return [
        Alert("digest", f"digest:{position or UNASSIGNED}:{period}", period, None, position, period_end(period),
              {"period": period, "previous_period": previous_period, "kecamatan": rows})
        for position, rows in sorted(by_position.items(), key=lambda kv: kv[0] or "")
    ]
