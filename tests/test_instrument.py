"""`harmoni form`: the KoboToolbox XLSForm and the Google Forms question list, and the
parser reading submissions built from them — one per kecamatan of the scope — so the
instrument and the parser cannot drift apart."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from harmoni_pipeline.cli import main
from harmoni_pipeline.connectors.kobo import render_csv
from harmoni_pipeline.ingest.survey import parse_survey_file
from harmoni_pipeline.instrument.codes import PEKERJAAN, PENDIDIKAN
from harmoni_pipeline.methodology import all_items
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions

SCOPE, PERIOD = "35.13", "2025-03"


def sheet_rows(path, name) -> list[dict]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, (str(v) for v in row))) for row in rows[1:]]


def parse(path):
    return parse_survey_file(path, display_path=path.name, regions=Regions.load(), scope=SCOPE, period=PERIOD,
                             pseudonymizer=Pseudonymizer("test-key-for-harmoni"))


@pytest.fixture(scope="module")
def kobo_form(tmp_path_factory):
    out = tmp_path_factory.mktemp("form")
    assert main(["form", "--kind", "kobo", "--out", str(out), "--scope", SCOPE]) == 0
    path = out / "harmoni_survey.xlsx"
    return {s: sheet_rows(path, s) for s in ("survey", "choices", "settings")}


def test_the_xlsform_has_the_groups_names_and_choices_kobo_needs(kobo_form):
    survey, choices = kobo_form["survey"], kobo_form["choices"]
    names = [r["name"] for r in survey if r["type"] not in ("begin_group", "end_group")]
    assert names[:8] == ["start", "end", "kecamatan", "desa", "jk", "umur", "pendidikan", "pekerjaan"]
    assert names[8:] == all_items()
    desa = next(r for r in survey if r["name"] == "desa")
    assert desa["type"] == "select_one desa" and desa["choice_filter"] == "kec=${kecamatan}"
    lists = pd.DataFrame(choices).groupby("list_name")["name"].apply(list)
    assert lists["likert"] == ["1", "2", "3", "4", "5"] and lists["jk"] == ["l", "p"]
    assert lists["pendidikan"] == list(PENDIDIKAN) and lists["pekerjaan"] == list(PEKERJAAN)
    kecamatan = Regions.load().kecamatan_in_scope(SCOPE)
    assert sorted(lists["kecamatan"]) == sorted(k.replace(".", "_") for k in kecamatan["kode"])
    assert all(c["kec"] and c["name"].startswith(c["kec"] + "_") for c in choices if c["list_name"] == "desa")
    assert kobo_form["settings"][0]["form_id"] == "survei_harmoni"


def test_a_kobo_submission_per_kecamatan_built_from_the_form_is_accepted(kobo_form, tmp_path):
    survey, choices = kobo_form["survey"], kobo_form["choices"]
    group, columns = None, []
    for row in survey:
        if row["type"] == "begin_group":
            group = row["name"]
        elif row["type"] == "end_group":
            group = None
        else:
            columns.append(f"{group}/{row['name']}" if group else row["name"])
    first_desa = {}
    for c in choices:
        if c["list_name"] == "desa":
            first_desa.setdefault(c["kec"], c["name"])
    kecamatan = [c["name"] for c in choices if c["list_name"] == "kecamatan"]
    records = []
    for i, kec in enumerate(kecamatan):
        answers = {"identitas/kecamatan": kec, "identitas/desa": first_desa[kec], "identitas/jk": "lp"[i % 2],
                   "identitas/umur": str(20 + i), "identitas/pendidikan": list(PENDIDIKAN)[i % len(PENDIDIKAN)],
                   "identitas/pekerjaan": list(PEKERJAAN)[i % len(PEKERJAAN)]}
        record = {c: answers.get(c, "4" if c.split("/")[0] in ("ihai", "ikn") else "") for c in columns}
        record.update({"start": "2025-03-02T08:00:00.000+07:00", "end": "2025-03-02T08:20:00.000+07:00",
                       "_id": i + 1, "_uuid": f"uuid-{i}", "_submission_time": "2025-03-02T01:30:00"})
        records.append(record)
    path = tmp_path / "kobo.csv"
    path.write_bytes(render_csv(records))
    parsed = parse(path)
    assert parsed.format == "kobo" and parsed.rows_read == len(kecamatan) and len(parsed.rejected) == 0
    accepted = parsed.accepted
    assert sorted(accepted["kode_kecamatan"]) == sorted(k.replace("_", ".") for k in kecamatan)
    assert accepted["kode_desa"].notna().all()
    assert set(accepted["pendidikan"]) <= set(PENDIDIKAN) and accepted["pekerjaan"].notna().all()
    assert (accepted[all_items()] == 4).all().all()


def test_a_google_response_per_kecamatan_built_from_the_question_list_is_accepted(tmp_path):
    assert main(["form", "--kind", "google", "--out", str(tmp_path), "--scope", SCOPE]) == 0
    form = json.loads((tmp_path / "google_form.json").read_text(encoding="utf-8"))
    questions = {q["title"]: q for q in form["questions"]}
    assert [t for t in questions if t.startswith("[")] == [
        t for t in questions if t.split("]")[0].strip("[") in all_items()] and len(questions) == 7 + 45
    regions = Regions.load()
    desa = regions.desa.merge(regions.kecamatan_in_scope(SCOPE), left_on="kode_kecamatan", right_on="kode",
                              suffixes=("", "_kec"))
    first_desa = desa.groupby("nama_kec")["nama"].first()
    rows = []
    for i, kec in enumerate(questions["Kecamatan"]["options"]):
        answers = {"Kabupaten/Kota": questions["Kabupaten/Kota"]["options"][0], "Kecamatan": kec,
                   "Desa/Kelurahan": first_desa[kec], "Jenis Kelamin": questions["Jenis Kelamin"]["options"][i % 2],
                   "Usia": str(30 + i), "Pendidikan": questions["Pendidikan"]["options"][i % len(PENDIDIKAN)],
                   "Pekerjaan": questions["Pekerjaan"]["options"][i % len(PEKERJAAN)]}
        rows.append([f"02/03/2025 10:{i:02d}:00"] + [answers[t] if t in answers else questions[t]["options"][3]
                                                    for t in questions])
    out = io.StringIO()
    csv.writer(out).writerows([["Stempel waktu", *questions], *rows])
    path = tmp_path / "google.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    parsed = parse(path)
    assert parsed.format == "google_forms" and len(parsed.rejected) == 0
    assert parsed.rows_read == len(rows) == regions.kecamatan_in_scope(SCOPE).shape[0]
    accepted = parsed.accepted
    assert set(accepted["pendidikan"]) <= set(PENDIDIKAN) and set(accepted["pekerjaan"]) <= set(PEKERJAAN)
    assert (accepted[all_items()] == 4).all().all() and accepted["kode_desa"].notna().all()


def test_canonical_pendidikan_stays_as_given(tmp_path):
    items = ",".join(all_items())
    path = tmp_path / "canonical.csv"
    path.write_text(f"response_id,submitted_at,kode_kecamatan,jenis_kelamin,umur,pendidikan,pekerjaan,{items}\n"
                    f"r1,2025-03-02T10:00:00,35.13.19,L,40,SMA/SMK,Sma/Smk," + ",".join(["3"] * 45) + "\n",
                    encoding="utf-8")
    accepted = parse(path).accepted
    assert accepted["pendidikan"].tolist() == ["SMA/SMK"] and accepted["pekerjaan"].tolist() == ["Sma/Smk"]
