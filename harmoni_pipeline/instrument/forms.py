"""The survey instrument as a KoboToolbox XLSForm and as a Google Forms question list,
generated from the methodology's item catalog and the region reference.

Room: what the forms ask and how their answers are named, so that the exports they give
are exactly the layouts the survey parser reads (data-contracts §3.1). Writing to disk
only; the parser (:mod:`harmoni_pipeline.ingest.survey`) is tested against submissions
built from these forms, so instrument and parser cannot drift apart.

- **KoboToolbox** (``harmoni_survey.xlsx``): sheets ``survey``, ``choices``,
  ``settings``. Group ``identitas``: ``kecamatan`` (choices named ``35_13_19``), ``desa``
  (``35_13_19_2001``, a cascading select filtered by ``kec=${kecamatan}``), ``jk``
  (``l``/``p``), ``umur`` (integer, 17–100), ``pendidikan`` and ``pekerjaan`` (the code
  lists of :mod:`.codes`, optional). Groups ``ihai`` and ``ikn``: one ``select_one
  likert`` per item, named by its code (``X01_PER``), choices ``1``…``5``. Kobo's
  export then has ``identitas/kecamatan``, ``ihai/X01_PER``… and its own ``_uuid``,
  ``_submission_time``.
- **Google Forms** (``google_form.json``): the questions in order with their exact
  titles and options — ``Kabupaten/Kota`` and ``Kecamatan`` (dropdowns of names; the
  kabupaten narrows the kecamatan names), ``Desa/Kelurahan`` (short text: a form has no
  cascading list, the parser resolves the name within the kecamatan), ``Jenis Kelamin``
  (``Laki-laki``/``Perempuan``), ``Usia`` (number 17–100), ``Pendidikan`` and
  ``Pekerjaan`` (the code lists' labels), then each item titled ``[X01_PER] <wording>``
  with the five Likert labels. Google adds ``Stempel waktu``/``Timestamp`` itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import xlsxwriter

from harmoni_pipeline.instrument.codes import PEKERJAAN, PENDIDIKAN
from harmoni_pipeline.methodology import DEFAULT_VERSION, all_items, likert_labels
from harmoni_pipeline.regions import Regions

AGE_MIN, AGE_MAX = 17, 100
KOBO_FILE = "harmoni_survey.xlsx"
GOOGLE_FILE = "google_form.json"
SEX = {"l": "Laki-laki", "p": "Perempuan"}


def item_wording(code: str) -> str:
    """The statement of an item (the sample's wording, which is the instrument's)."""
    from harmoni_pipeline.sample.survey import WORDING

    block, aspect = code.split("_")
    return WORDING[block][("PER", "PAR", "AKS").index(aspect)]


def likert_choices() -> list[tuple[str, str]]:
    """``(value, label)`` for 1…5, labels as the methodology spells them, capitalised."""
    labels = sorted(likert_labels().items(), key=lambda kv: kv[1])
    return [(str(value), label[:1].upper() + label[1:]) for label, value in labels]


def _kobo_group(code: str) -> str:
    return "ihai" if code.upper().startswith("X") else "ikn"


def _regions(scope: str):
    regions = Regions.load()
    kecamatan = regions.kecamatan_in_scope(regions.validate_scope(scope))
    desa = regions.desa[regions.desa["kode_kecamatan"].isin(kecamatan["kode"])]
    kabupaten = regions.kabupaten[regions.kabupaten["kode"].isin(kecamatan["kode_kabupaten"])]
    return kabupaten, kecamatan, desa


def kobo_rows(scope: str) -> tuple[list[dict], list[dict], dict]:
    """The XLSForm's ``survey`` rows, ``choices`` rows and ``settings``."""
    _, kecamatan, desa = _regions(scope)
    survey = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "begin_group", "name": "identitas", "label": "Identitas responden"},
        {"type": "select_one kecamatan", "name": "kecamatan", "label": "Kecamatan", "required": "yes"},
        {"type": "select_one desa", "name": "desa", "label": "Desa/Kelurahan", "required": "yes",
         "choice_filter": "kec=${kecamatan}"},
        {"type": "select_one jk", "name": "jk", "label": "Jenis kelamin", "required": "yes"},
        {"type": "integer", "name": "umur", "label": "Usia (tahun)", "required": "yes",
         "constraint": f". >= {AGE_MIN} and . <= {AGE_MAX}", "constraint_message": f"Usia {AGE_MIN}–{AGE_MAX} tahun"},
        {"type": "select_one pendidikan", "name": "pendidikan", "label": "Pendidikan tertinggi yang ditamatkan"},
        {"type": "select_one pekerjaan", "name": "pekerjaan", "label": "Pekerjaan/kegiatan utama"},
        {"type": "end_group", "name": "identitas"},
    ]
    titles = {"ihai": "Indeks Harmoni (IHaI)", "ikn": "Indeks Kerawanan (IKN)"}
    for group in ("ihai", "ikn"):
        survey.append({"type": "begin_group", "name": group, "label": titles[group]})
        survey += [{"type": "select_one likert", "name": code, "label": item_wording(code), "required": "yes"}
                   for code in all_items() if _kobo_group(code) == group]
        survey.append({"type": "end_group", "name": group})
    underscored = lambda code: code.replace(".", "_")  # noqa: E731
    choices = [{"list_name": "kecamatan", "name": underscored(k), "label": n}
               for k, n in zip(kecamatan["kode"], kecamatan["nama"])]
    choices += [{"list_name": "desa", "name": underscored(k), "label": n, "kec": underscored(p)}
                for k, n, p in zip(desa["kode"], desa["nama"], desa["kode_kecamatan"])]
    choices += [{"list_name": "jk", "name": k, "label": v} for k, v in SEX.items()]
    choices += [{"list_name": "pendidikan", "name": k, "label": v} for k, v in PENDIDIKAN.items()]
    choices += [{"list_name": "pekerjaan", "name": k, "label": v} for k, v in PEKERJAAN.items()]
    choices += [{"list_name": "likert", "name": v, "label": label} for v, label in likert_choices()]
    settings = {"form_title": "Survei Harmoni (IHaI/IKN)", "form_id": "survei_harmoni",
                "version": f"{DEFAULT_VERSION}-{scope}"}
    return survey, choices, settings


def write_kobo(scope: str, out: Path) -> Path:
    survey, choices, settings = kobo_rows(scope)
    out.mkdir(parents=True, exist_ok=True)
    path = out / KOBO_FILE
    book = xlsxwriter.Workbook(str(path))
    for name, rows, columns in (
        ("survey", survey, ["type", "name", "label", "required", "constraint", "constraint_message", "choice_filter"]),
        ("choices", choices, ["list_name", "name", "label", "kec"]),
        ("settings", [settings], list(settings)),
    ):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, columns)
        for i, row in enumerate(rows, start=1):
            sheet.write_row(i, 0, [row.get(c, "") for c in columns])
    book.close()
    return path


def google_questions(scope: str) -> dict:
    """The Google Form: title and questions (``title``, ``type``, ``required``,
    ``options`` where the answer is chosen)."""
    kabupaten, kecamatan, _ = _regions(scope)
    likert = [label for _, label in likert_choices()]
    questions = [
        {"title": "Kabupaten/Kota", "type": "dropdown", "required": True, "options": sorted(kabupaten["nama"].tolist())},
        {"title": "Kecamatan", "type": "dropdown", "required": True,
         "options": sorted(set(kecamatan["nama"].tolist()))},
        {"title": "Desa/Kelurahan", "type": "short_answer", "required": True},
        {"title": "Jenis Kelamin", "type": "multiple_choice", "required": True, "options": list(SEX.values())},
        {"title": "Usia", "type": "short_answer", "required": True,
         "validation": {"number_between": [AGE_MIN, AGE_MAX]}},
        {"title": "Pendidikan", "type": "dropdown", "required": False, "options": list(PENDIDIKAN.values())},
        {"title": "Pekerjaan", "type": "dropdown", "required": False, "options": list(PEKERJAAN.values())},
    ]
    questions += [{"title": f"[{code}] {item_wording(code)}", "type": "multiple_choice", "required": True,
                   "options": likert} for code in all_items()]
    return {"title": "Survei Harmoni (IHaI/IKN)", "methodology": DEFAULT_VERSION, "scope": scope,
            "note": "Google Forms adds the 'Timestamp'/'Stempel waktu' column itself; keep every title exactly.",
            "questions": questions}


def write_google(scope: str, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / GOOGLE_FILE
    path.write_text(json.dumps(google_questions(scope), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path
