"""The words of a notification, in Indonesian: a subject, a plain-text body and HTML.

Room: rendering an alert's payload (:mod:`.triggers`) — what, where, when, the FKDM
qualification and category, the kecamatan's current IHaI/IKN and quadrant, the
rekomendasi and how to trace it. Never the reporter nor ``ringkasan`` (the payload holds
neither). No sending here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

ATHG = {"A": "Ancaman", "T": "Tantangan", "H": "Hambatan", "G": "Gangguan"}
QUALIFICATION = {"merah1": "MERAH 1", "merah2": "MERAH 2", "kuning": "KUNING", "hijau": "HIJAU"}
TELEGRAM_LIMIT = 4000


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _num(value) -> str:
    return "-" if value is None else f"{value:.1f}"


def _state_lines(state: dict | None, period: str | None) -> list[tuple[str, str]]:
    if not state:
        return [("Kondisi kecamatan", "belum ada skor yang dipublikasikan")]
    return [
        (f"Kondisi kecamatan ({period})", f"IHaI {_num(state.get('ihai'))}, IKN {_num(state.get('ikn'))}, "
         f"tingkat kerawanan {state.get('tingkat_kerawanan') or '-'}, kuadran {state.get('kuadran') or '-'}"),
        ("Rekomendasi", state.get("rekomendasi") or "-"),
    ]


def _trace(period: str, kecamatan: str, index: str) -> str:
    return f"harmoni trace --period {period} --kecamatan {kecamatan} --index {index}"


def _red_report(p: dict) -> tuple[str, list[tuple[str, str]], str]:
    qual = QUALIFICATION.get(p["kualifikasi"], p["kualifikasi"])
    where = f"Kecamatan {p.get('nama_kecamatan') or '-'} ({p['kode_kecamatan']})"
    if p.get("kode_desa"):
        where += f", Desa/Kelurahan {p.get('nama_desa') or '-'} ({p['kode_desa']})"
    subject = f"[HARMONI] Laporan FKDM {qual} — Kec. {p.get('nama_kecamatan') or p['kode_kecamatan']} ({p['no_laporan']})"
    lines = [
        ("Apa", f"laporan FKDM berkualifikasi {qual}: bidang {p.get('bidang') or '-'}, "
                f"{ATHG.get(p.get('jenis_athg'), p.get('jenis_athg') or '-')}"),
        ("Di mana", where),
        ("Kapan", f"kejadian {p.get('tgl_kejadian') or '-'}, dilaporkan {p.get('tgl_lapor') or '-'}"),
        ("Kualifikasi FKDM", f"{qual} (status {p.get('status') or '-'})"),
        ("Kategori", f"{p.get('bidang') or '-'} / {ATHG.get(p.get('jenis_athg'), p.get('jenis_athg') or '-')}"),
        ("Nomor laporan", p["no_laporan"]),
        *_state_lines(p.get("state"), p.get("state_period")),
        ("Telusuri", _trace(p["period"], p["kode_kecamatan"], "ikn")),
    ]
    intro = "Peringatan dini HARMONI: laporan FKDM merah diterima dan lolos pemeriksaan data."
    return subject, lines, intro


def _became_rawan(p: dict) -> tuple[str, list[tuple[str, str]], str]:
    s = p["state"]
    subject = f"[HARMONI] Kec. {s.get('nama_kecamatan') or s['kode_kecamatan']} menjadi rawan ({p['period']})"
    before = p.get("previous")
    lines = [
        ("Apa", "; ".join(p["reasons"])),
        ("Di mana", f"Kecamatan {s.get('nama_kecamatan') or '-'} ({s['kode_kecamatan']})"),
        ("Kapan", f"bulan {p['period']}" + (f" (sebelumnya {p['previous_period']}: tingkat kerawanan "
                                           f"{before.get('tingkat_kerawanan') or '-'})" if before else "")),
        *_state_lines(s, p["period"]),
        ("Penanggung jawab", s.get("penanggung_jawab") or "belum ditetapkan"),
        ("Telusuri", _trace(p["period"], s["kode_kecamatan"], "kuadran")),
    ]
    return subject, lines, "Peringatan dini HARMONI: skor bulanan menunjukkan kecamatan yang baru menjadi rawan."


def _digest(p: dict, position: str | None) -> tuple[str, list[tuple[str, str]], str]:
    rows = p["kecamatan"]
    subject = f"[HARMONI] Ringkasan {p['period']} — {position or 'kecamatan tanpa penanggung jawab'}"
    lines = []
    for r in rows:
        change = "; ".join(r.get("changes") or []) or "tidak ada perubahan kuadran/kerawanan"
        lines.append((f"Kec. {r.get('nama_kecamatan') or '-'} ({r['kode_kecamatan']})",
                      f"kuadran {r.get('kuadran') or '-'}, IHaI {_num(r.get('ihai'))}, IKN {_num(r.get('ikn'))}, "
                      f"kerawanan {r.get('tingkat_kerawanan') or '-'}{', ALERT MERAH' if r.get('alert_merah') else ''}"
                      f" — {r.get('rekomendasi') or '-'} ({change})"))
    lines.append(("Telusuri", f"harmoni trace --period {p['period']} --kecamatan KODE --index kuadran"))
    intro = (f"Ringkasan bulanan HARMONI {p['period']} untuk {position or 'kecamatan tanpa penanggung jawab'}: "
             f"{len(rows)} kecamatan" + (f", dibandingkan dengan {p['previous_period']}." if p.get("previous_period") else "."))
    return subject, lines, intro


def render(kind: str, payload: dict, position: str | None = None, unassigned: bool = False) -> Rendered:
    """The message of one alert."""
    if kind == "red_report":
        subject, lines, intro = _red_report(payload)
    elif kind == "became_rawan":
        subject, lines, intro = _became_rawan(payload)
    elif kind == "digest":
        subject, lines, intro = _digest(payload, position)
    elif kind == "test":
        subject, lines, intro = ("[HARMONI] Pesan uji", [("Untuk", position or "-")],
                                 "Pesan uji HARMONI: saluran ini menerima peringatan dini.")
    else:
        raise ValueError(f"unknown notification kind {kind!r}")
    if unassigned:
        intro = (f"[Tanpa penanggung jawab: {position or 'kecamatan belum ditetapkan'} tidak punya kontak] " + intro)
    text = intro + "\n\n" + "\n".join(f"{label}: {value}" for label, value in lines) + "\n"
    body = "".join(f"<tr><th align='left' valign='top'>{html.escape(label)}</th><td>{html.escape(str(value))}</td></tr>"
                   for label, value in lines)
    page = (f"<html><body><p>{html.escape(intro)}</p><table cellpadding='4'>{body}</table>"
            "<p><small>Dikirim oleh pipeline HARMONI. Balas ke kantor, bukan ke alamat ini.</small></p></body></html>")
    return Rendered(subject, text, page)


def short_text(rendered: Rendered, limit: int = TELEGRAM_LIMIT) -> str:
    """Subject and body for chat channels, cut to ``limit`` characters."""
    text = f"{rendered.subject}\n\n{rendered.text}"
    return text if len(text) <= limit else text[: limit - 1] + "…"
