"""Small hand-made landing files for tests that must not depend on the sample generator."""

from __future__ import annotations

from pathlib import Path

from harmoni_pipeline.methodology import all_items

CANONICAL_HEADER = [
    "response_id", "submitted_at", "kode_kecamatan", "kode_desa", "jenis_kelamin", "umur",
    "pendidikan", "pekerjaan", "email", "no_hp", "nik",
] + all_items()


def write_canonical_survey(path: Path, rows: list[dict]) -> Path:
    """``rows`` give some fields; items default to 4, others to plausible values."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [",".join(CANONICAL_HEADER)]
    for i, row in enumerate(rows):
        base = {
            "response_id": f"R-{i:04d}",
            "submitted_at": "2025-11-10T09:00:00+07:00",
            "kode_kecamatan": "35.13.19",
            "kode_desa": "",
            "jenis_kelamin": "L",
            "umur": "35",
            "pendidikan": "SMA",
            "pekerjaan": "Petani",
            "email": "",
            "no_hp": "",
            "nik": "",
            **{item: "4" for item in all_items()},
        }
        base.update(row)
        lines.append(",".join(str(base[c]) for c in CANONICAL_HEADER))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows_across_scope(period: str, scope: str = "35.13") -> list[dict]:
    """One valid canonical row per kecamatan in ``scope``, submitted in ``period`` — a
    delivery that passes the survey coverage expectation (≥ 50 % of kecamatan)."""
    from harmoni_pipeline.regions import Regions

    codes = Regions.load().kecamatan_in_scope(scope)["kode"]
    return [
        {"response_id": f"R-{period}-{i:04d}", "submitted_at": f"{period}-10T09:00:00+07:00", "kode_kecamatan": code}
        for i, code in enumerate(codes)
    ]


def landing_sensor_tick(defs, instance, cursor):
    """One tick of ``harmoni_landing_sensor`` as the daemon runs it (with the harmoni
    resource): its result (run requests, asset events, new cursor)."""
    import dagster as dg

    from harmoni_pipeline.defs.resources import HarmoniResource

    sensor = defs.resolve_sensor_def("harmoni_landing_sensor")
    with dg.build_sensor_context(instance=instance, cursor=cursor, repository_def=defs.get_repository_def(),
                                  resources={"harmoni": HarmoniResource()}) as context:
        return sensor.evaluate_tick(context)
