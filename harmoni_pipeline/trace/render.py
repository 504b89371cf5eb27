"""``harmoni trace`` as text for a terminal: the document of :func:`.query.trace`, in
sections an auditor reads top-down (score, window, files, respondents, reports,
statistics, runs). ``--json`` prints the document itself; nothing is added here.
"""

from __future__ import annotations

NAMES = {"ihai": "IHaI", "ikn": "IKN", "kuadran": "Kuadran"}
SCORE_DETAILS = {
    "ihai": ("n_responden", "n_efektif", "weighting", "ci_low", "ci_high", "dim_ekonomi", "dim_sosial", "dim_budaya",
             "dim_keberagamaan", "aspek_persepsi", "aspek_partisipasi", "aspek_akseptabilitas"),
    "ikn": ("n_responden", "n_laporan", "pilar_survei", "pilar_peristiwa", "pilar_konteks", "e1", "e2", "e3",
            "kerawanan", "tingkat_kerawanan", "alert_merah"),
    "kuadran": ("ihai", "ikn", "penanggung_jawab", "alasan_null"),
}


def _num(value) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    cells = [header] + [[_num(c) for c in r] for r in rows]
    widths = [max(len(str(r[i])) for r in cells) for i in range(len(header))]
    return ["  " + "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells]


def _where(row: dict) -> str:
    return f"{row['path']}:{row['line']}" if row.get("line") is not None else row["path"]


def _score_lines(score: dict) -> list[str]:
    cols = score["columns"]
    head = f"{NAMES[score['index']]}: {_num(score['value'])}"
    if score["category"]:
        head += f" ({score['category']})"
    head += f", status {score['status']}"
    out = [head, "  " + ", ".join(f"{k} {_num(cols.get(k))}" for k in SCORE_DETAILS[score["index"]] if k in cols)]
    parts = score.get("parts") or []
    if parts:
        label = next(k for k in parts[0] if k not in ("aspek", "skor", "n"))
        out.append("  " + "; ".join(f"{p[label]} {p['aspek']} {_num(p['skor'])} (n {p['n']})" for p in parts))
    return out


def render(doc: dict) -> str:
    m = doc["methodology"]
    lines = [f"Trace of {doc['kode_kecamatan']} {doc['nama_kecamatan'] or ''}, {doc['period']} "
             f"(methodology {m['version']}, sha256 {m['sha256']})", ""]
    for score in doc["scores"]:
        lines += _score_lines(score)
    w, e = doc["window_months"], doc["event_window_months"]
    lines += ["", f"Survey window: {w[0]} .. {w[-1]} ({len(w)} months); FKDM event window: {e[0]} .. {e[-1]}."]

    lines += ["", f"Source files whose rows were used ({len(doc['sources'])}):"]
    lines += _table(["kind", "arrival", "format", "rows used", "rejected in file", "rules", "sha256", "path"],
                    [[s["kind"], s["arrival_period"], s["format"], s["rows_used"], s["rows_rejected"],
                      s["rejected_rules"] or "-", s["sha256"][:16], s["path"]] for s in doc["sources"]])

    lines += ["", f"Respondents counted: {doc['respondents']} (the copy that counts: first arrival)"]
    lines += _table(["index", "response_id", "sex", "age", "weight", "arrival", "file:line"],
                    [[r["index"], r["response_id"], r["jenis_kelamin"], r["umur"], f"{r['weight']:.4f}",
                      r["arrival_period"], _where(r)] for r in doc["respondent_rows"]])

    if any(s["index"] in ("ikn", "kuadran") for s in doc["scores"]):
        lines += ["", f"FKDM report versions used: {doc['reports_in_window']} in the event window, "
                      f"{sum(1 for r in doc['reports'] if r['red_alert'])} raising the red alert"]
        lines += _table(["no_laporan", "status", "kualifikasi", "tgl_lapor", "tgl_selesai", "window", "red", "file:line"],
                        [[r["no_laporan"], r["status"], r["kualifikasi"], r["tgl_lapor"], r["tgl_selesai"],
                          "yes" if r["in_window"] else "no", "yes" if r["red_alert"] else "no", _where(r)]
                         for r in doc["reports"]])

    lines += ["", f"Statistics values used ({len(doc['statistics'])}):"]
    lines += _table(["use", "indikator", "wilayah", "tahun", "sex", "band", "nilai", "inherited", "file:line"],
                    [[s["use"], s["indikator"], s["kode_wilayah"], s["tahun"], s["jenis_kelamin"] or "-",
                      s["kelompok_umur"] or "-", s["nilai"], "yes" if s["diwarisi"] else "no", _where(s)]
                     for s in doc["statistics"]])

    lines += ["", "Runs that produced each layer:"]
    lines += _table(["layer", "partition", "run_id", "code version", "published"],
                    [[r["layer"], r["partition"], r["run_id"], r.get("code_version") or "-", r.get("published_at") or "-"]
                     for r in doc["runs"]])
    return "\n".join(lines)
