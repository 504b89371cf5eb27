"""Published tables and settings for the notification tests: FKDM staging partitions and
month snapshots of the marts written through the real warehouse, a contacts file, and
the environment of local SMTP/HTTP servers."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from harmoni_pipeline.registry import catalog_tables
from harmoni_pipeline.warehouse import Warehouse

SCHEMAS = catalog_tables()
OFFICER_EMAIL = "rina.officer.sukapura@dinas-kesbang.example"
OFFICER_CHAT = "778899001122"
OFFICER_HOOK_PATH = "/hook/officer-sukapura-9f3c"
SECOND_EMAIL = "bagus.trantib.sumber@dinas-kesbang.example"
FALLBACK_EMAIL = "kantor.kesbangpol.fallback@dinas-kesbang.example"
OFFICE_HOOK_PATH = "/hook/office-team-77aa"
POSITION = "Camat Sukapura"
SECOND = "Kasi Trantib Kec. Sumber"


def warehouse(root) -> Warehouse:
    return Warehouse(root, SCHEMAS)


def publish_fkdm(wh: Warehouse, period: str, reports: list[dict], run_id: str = "run-fkdm") -> None:
    rows = []
    for i, r in enumerate(reports):
        rows.append({"period": period, "source_sha256": "s" * 64, "source_path": f"fkdm/{period}/f.csv",
                     "file_order": r.get("file_order", 0), "line": r.get("line", i + 2), "format": "csv",
                     "pii_key_id": "k", "run_id": run_id, "tgl_kejadian": r["tgl_lapor"], "bidang": "sosial-budaya",
                     "jenis_athg": "A", "status": "baru", "kode_desa": None, "pelapor_key": "pii:reporter", **r})
    wh.write_partition("staging.fkdm_reports", period, pa.Table.from_pylist(rows, schema=SCHEMAS["staging.fkdm_reports"]))


def publish_month(wh: Warehouse, period: str, kecamatan: dict[str, dict], run_id: str = "run-marts") -> None:
    """The month's snapshot with ikn_kecamatan and harmoni_kewaspadaan rows per kecamatan
    (``tingkat``, ``alert``, ``kuadran``, ``position``)."""
    ikn = [{"kode_kecamatan": k, "nama_kecamatan": v.get("nama", k), "ikn": 40.0, "tingkat_kerawanan": v["tingkat"],
            "alert_merah": v.get("alert", False), "status": "ok"} for k, v in kecamatan.items()]
    quadrant = [{"kode_kecamatan": k, "nama_kecamatan": v.get("nama", k), "ihai": 55.5, "ikn": 40.0, "kerawanan": 60.0,
                 "tingkat_kerawanan": v["tingkat"], "kuadran": v.get("kuadran", "kurang-harmonis-rawan"),
                 "rekomendasi": "prioritas 1: aksi terpadu FKDM + FKUB + Forkopimcam.",
                 "penanggung_jawab": v.get("position")} for k, v in kecamatan.items()]
    extra = {"period": period, "methodology_version": "HM-2026.1", "run_id": run_id}

    def table(name, rows):
        schema = SCHEMAS[name]
        return pa.Table.from_pylist([{**extra, **r} for r in rows], schema=schema)

    wh.publish_all({"marts.ikn_kecamatan": table("marts.ikn_kecamatan", ikn),
                    "marts.harmoni_kewaspadaan": table("marts.harmoni_kewaspadaan", quadrant)}, period, run_id)


def write_contacts(path) -> None:
    path.write_text(
        "penanggung_jawab,email,telegram_chat_id,webhook_url\n"
        f"{POSITION},{OFFICER_EMAIL},{OFFICER_CHAT},\n"
        f"camat  sukapura,,,{{hook}}{OFFICER_HOOK_PATH}\n"
        f"{SECOND},{SECOND_EMAIL},,\n", encoding="utf-8")


def contact_values(http_url: str) -> list[str]:
    return [OFFICER_EMAIL, OFFICER_CHAT, http_url + OFFICER_HOOK_PATH, SECOND_EMAIL, FALLBACK_EMAIL,
            http_url + OFFICE_HOOK_PATH]


def notify_env(monkeypatch, tmp_path, smtp_port: int, http_url: str, *, since: str = "2025-01-01") -> None:
    contacts = tmp_path / "secret" / "contacts.csv"
    contacts.parent.mkdir(exist_ok=True)
    write_contacts(contacts)
    contacts.write_text(contacts.read_text().replace("{hook}", http_url))
    for name, value in {
        "HARMONI_CONTACTS_FILE": str(contacts), "HARMONI_SMTP_HOST": "127.0.0.1", "HARMONI_SMTP_PORT": str(smtp_port),
        "HARMONI_SMTP_FROM": "harmoni@kesbang.example", "HARMONI_SMTP_STARTTLS": "0",
        "HARMONI_TELEGRAM_TOKEN": "123456:TEST-token-never-logged", "HARMONI_TELEGRAM_API": http_url,
        "HARMONI_ALERT_WEBHOOK": http_url + OFFICE_HOOK_PATH, "HARMONI_ALERT_FALLBACK_EMAIL": FALLBACK_EMAIL,
        "HARMONI_ALERT_SINCE": since,
    }.items():
        monkeypatch.setenv(name, value)


def red(no: str, kualifikasi: str = "merah1", status: str = "baru", day: str = "2025-11-04",
        kec: str = "35.13.01", **extra) -> dict:
    return {"no_laporan": no, "kualifikasi": kualifikasi, "status": status, "tgl_lapor": dt.date.fromisoformat(day),
            "kode_kecamatan": kec, **extra}
