"""Ingestion's column-wise shortcuts give the answers of the per-value definitions they
stand in for (issue 19: Google Forms ids, XLSX cell rendering, rejected rows), compared
on a generated national sample (real files, every survey layout) and on odd values."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from harmoni_pipeline.ingest.survey import parse_survey_file
from harmoni_pipeline.pii import Pseudonymizer
from harmoni_pipeline.regions import Regions
from harmoni_pipeline.sample import generate_landing_zone

PERIOD = "2025-12"


@pytest.fixture(scope="module")
def regions() -> Regions:
    return Regions.load()


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("national")
    generate_landing_zone(root, start=PERIOD, end=PERIOD, seed=5, scope="ALL", responses=4000, reports=200)
    return root


def _survey_files(landing: Path) -> list[Path]:
    return sorted(p for p in (landing / "survey" / PERIOD).iterdir() if p.suffix in (".csv", ".xlsx"))


def _ids_row_by_row(submitted, kec_code, desa_code, sex, age, item_values, pseudonyms) -> pd.Series:
    """The Google Forms ids as first written (before issue 19's second pass): Arrow's
    ``strftime`` for the instant, each key decoded to a Python string and encoded again."""
    import hashlib

    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from harmoni_pipeline.ingest.survey import ITEMS, STRING

    if len(submitted) == 0:
        return pd.Series([], index=submitted.index, dtype=STRING)
    answers = np.column_stack([item_values[code].fillna(0).to_numpy(dtype=np.uint8) for code in ITEMS])
    answers = np.ascontiguousarray(answers + ord("0"), dtype=np.uint8).view(f"S{len(ITEMS)}").ravel()

    def text(values) -> pa.Array:
        return pc.fill_null(pa.array(pd.Series(values).astype(STRING).array, type=pa.large_string()), "")

    naive = pa.array(submitted.dt.tz_convert("UTC").dt.tz_localize(None))
    instant = pc.fill_null(pc.strftime(naive, format="%Y-%m-%dT%H:%M:%SZ"), "")
    parts = [pc.cast(instant, pa.large_string()), text(kec_code), text(desa_code), text(sex), text(age.astype(STRING)),
             pc.cast(pa.array(answers, type=pa.binary()), pa.large_string()), text(pseudonyms["email"]),
             text(pseudonyms["phone"])]  # fmt: skip
    keys = pc.binary_join_element_wise(*parts, pa.scalar("|", pa.large_string())).to_pylist()
    ids = ["gf-" + hashlib.sha256(k.encode("utf-8")).hexdigest() for k in keys]
    return pd.Series(ids, index=submitted.index, dtype=STRING)


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_utc_instants_match_strftime(unit):
    import pyarrow as pa
    import pyarrow.compute as pc

    from harmoni_pipeline.ingest.survey import _utc_instants

    text = ["2025-12-01 00:04:31", None, "2025-11-30 17:00:00.5", "1970-01-01", "2000-02-29 23:59:59.999999",
            "2025-12-31 23:59:59.123456"]  # fmt: skip
    when = pd.Series(pd.to_datetime(text, format="ISO8601")).dt.tz_localize("Asia/Jakarta")
    when = when.astype(f"datetime64[{unit}, Asia/Jakarta]")
    naive = pa.array(when.dt.tz_convert("UTC").dt.tz_localize(None))
    assert _utc_instants(when).to_pylist() == pc.fill_null(pc.strftime(naive, format="%Y-%m-%dT%H:%M:%SZ"), "").to_pylist()


def test_google_forms_ids_are_the_ids_hashed_row_by_row(regions, landing, monkeypatch):
    import harmoni_pipeline.ingest.survey as survey

    gforms = [p for p in _survey_files(landing) if p.name.startswith("gform")]
    fixtures = sorted((Path(__file__).parent / "fixtures" / "survey").glob("gf_*.csv"))
    assert gforms and fixtures
    pseudonymizer = Pseudonymizer("test-key")

    def parse(paths, scope):
        return [parse_survey_file(p, display_path=f"survey/{PERIOD}/{p.name}", regions=regions, scope=scope,
                                  period=PERIOD, pseudonymizer=pseudonymizer) for p in paths]  # fmt: skip

    fast = parse(gforms, "ALL") + parse(fixtures, "35.13")
    monkeypatch.setattr(survey, "_google_forms_ids", _ids_row_by_row)
    slow = parse(gforms, "ALL") + parse(fixtures, "35.13")
    assert sum(len(p.accepted) for p in slow) > 1000
    for a, b in zip(fast, slow):
        assert a.accepted["response_id"].str.startswith("gf-").all()
        pd.testing.assert_frame_equal(a.accepted, b.accepted)
        pd.testing.assert_frame_equal(a.rejected, b.rejected)


def _render_by_type_objects(values: list) -> list:
    """XLSX cells rendered as before issue 19's second pass: the cell types compared as an
    object array of Python types (the rendering itself is shared)."""
    import datetime as dt

    import numpy as np

    kinds = np.array([type(v) for v in values], dtype=object)
    codes = np.full(len(values), 7, dtype=np.int8)
    for code, kind in enumerate((type(None), str, float, bool, int, dt.datetime, dt.date)):
        codes[kinds == kind] = code
    return codes.tolist()


def test_xlsx_cell_kinds_and_rendering_match_the_type_comparison(landing):
    import datetime as dt
    import math

    import numpy as np
    import python_calamine

    from harmoni_pipeline.ingest import readers

    odd = [None, "", "  a  ", "x", 1.0, -0.0, 2.5, math.nan, math.inf, -math.inf, 1e20, float(2**53), True, False,
           0, 12, 2**70, dt.datetime(2025, 12, 1, 3, 4, 5, 600000), dt.date(2025, 12, 1), dt.time(7, 8, 9),
           dt.timedelta(hours=3), np.float64(3.0), np.int64(4), np.bool_(True), b"bytes"]  # fmt: skip
    books = [p for p in _survey_files(landing) if p.suffix == ".xlsx"]
    books += sorted((Path(__file__).parent / "fixtures").rglob("*.xlsx"))
    cells = [odd]
    for path in books:
        try:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                cells.append([v for row in book.get_sheet_by_name(name).to_python() for v in row])
        except Exception:  # a fixture made to be unreadable
            continue
    assert sum(len(c) for c in cells) > 10_000
    for values in cells:
        kind_of = readers._CELL_KINDS.get
        new = [kind_of(type(v), readers._OTHER_CELL) for v in values]
        assert new == _render_by_type_objects(values)
    rendered = readers._render_cells(odd).to_pylist()
    assert rendered[:5] == [None, None, "a", "x", "1"]
    assert rendered[17:22] == ["2025-12-01T03:04:06", "2025-12-01", "07:08:09", "3:00:00", "3.0"]


def _frame_per_rule_class():
    """``Rejections`` as before issue 19's second pass: one DataFrame per ``add``."""
    from harmoni_pipeline.ingest.common import RULES, Rejections, empty_rejected, flagged_rows

    class FramePerRule(Rejections):
        def add(self, mask, rule, column, values=None, message=""):
            assert rule in RULES
            rows = flagged_rows(mask)
            if not rows.size:
                return
            n = rows.size
            self._parts.append(pd.DataFrame({
                "line": self._lines.iloc[rows].reset_index(drop=True),
                "rule": pd.Series([rule] * n, dtype="string"),
                "column": self._at(column, rows) if isinstance(column, pd.Series) else pd.Series([column] * n, dtype="string"),
                "value": pd.Series(pd.NA, index=range(n), dtype="string") if values is None else self._at(values, rows),
                "message": (self._at(message, rows).fillna(rule) if isinstance(message, pd.Series)
                            else pd.Series([message] * n, dtype="string")),
            }))  # fmt: skip
            self._bad[rows] = True

        def frame(self):
            if not self._parts:
                return empty_rejected()
            out = pd.concat(self._parts, ignore_index=True)
            return out.astype(
                {"line": "Int64", "rule": "string", "column": "string", "value": "string", "message": "string"}
            ).sort_values(["line", "rule"], kind="stable", ignore_index=True)

    return FramePerRule


def _parse_surveys(files: list[tuple[Path, str]], regions: Regions) -> list:
    """Each (file, scope)'s :class:`ParsedFile`, or its error's text (unreadable fixtures
    must fail the same way both ways)."""
    pseudonymizer = Pseudonymizer("test-key")
    out = []
    for path, scope in files:
        try:
            out.append(parse_survey_file(path, display_path=f"survey/{PERIOD}/{path.name}", regions=regions,
                                         scope=scope, period=PERIOD, pseudonymizer=pseudonymizer))  # fmt: skip
        except Exception as exc:
            out.append(str(exc))
    return out


def _assert_same_outcomes(new: list, old: list) -> None:
    assert len(new) == len(old)
    for a, b in zip(new, old):
        if isinstance(b, str):
            assert a == b
            continue
        pd.testing.assert_frame_equal(a.accepted, b.accepted)
        pd.testing.assert_frame_equal(a.rejected, b.rejected)
        assert a.rows_rejected == b.rows_rejected


def test_rejections_assembled_once_equal_one_frame_per_rule(regions, landing, monkeypatch):
    import harmoni_pipeline.ingest.fkdm as fkdm
    import harmoni_pipeline.ingest.survey as survey

    fixtures = sorted((Path(__file__).parent / "fixtures" / "survey").glob("*.csv"))
    pseudonymizer = Pseudonymizer("test-key")

    def parse_all():
        out = _parse_surveys([*((p, "ALL") for p in _survey_files(landing)), *((p, "35.13") for p in fixtures)], regions)
        for path in sorted((landing / "fkdm").rglob("*.*")):
            out.append(fkdm.parse_fkdm_file(path, display_path=path.name, regions=regions, scope="ALL",
                                            period=PERIOD, pseudonymizer=pseudonymizer))  # fmt: skip
        return out

    new = parse_all()
    monkeypatch.setattr(survey, "Rejections", _frame_per_rule_class())
    monkeypatch.setattr(fkdm, "Rejections", _frame_per_rule_class())
    old = parse_all()
    assert sum(len(p.rejected) for p in old if not isinstance(p, str)) > 100
    _assert_same_outcomes(new, old)


def _items_column_by_column(frame, layout, classify):
    """The item answers as classified before issue 19's ninth pass: one factorize and one
    classification per item column."""
    import numpy as np

    from harmoni_pipeline.ingest.survey import ITEMS, _classify_uniques

    values, status_by_item, answered = {}, {}, np.zeros(len(frame), dtype=bool)
    for code in ITEMS:
        header = layout.items.get(code)
        if header is None:
            values[code] = pd.Series(pd.NA, index=frame.index, dtype="Int8")
            continue
        cells = _classify_uniques(frame[header], classify)
        values[code] = cells.as_integers("Int8", frame.index)
        status_by_item[code] = cells.status
        answered |= cells.present
    return pd.DataFrame(values, index=frame.index), status_by_item, answered


def test_items_classified_together_equal_items_classified_one_by_one(regions, landing, monkeypatch, tmp_path):
    import harmoni_pipeline.ingest.survey as survey

    # a Kobo file without two items and with odd answers (labels, out of scale, decimals)
    kobo = next(p for p in _survey_files(landing) if p.name.startswith("kobo") and p.suffix == ".csv")
    odd = pd.read_csv(kobo, sep=None, engine="python", dtype=str, keep_default_na=False)
    items = [c for c in odd.columns if c.rsplit("/", 1)[-1] in set(survey.ITEMS)]
    assert len(items) == len(survey.ITEMS)
    odd = odd.drop(columns=items[:2])
    odd.loc[odd.index[:40:4], items[2]] = ["Sangat Setuju", "9", "2,5", " 3 ", "x", "", "0", "SETUJU", "5.0", "-1"]
    odd.to_csv(tmp_path / "kobo_odd.csv", index=False, sep=";")
    fixtures = sorted((Path(__file__).parent / "fixtures" / "survey").glob("*.csv"))
    files = [*((p, "ALL") for p in [*_survey_files(landing), tmp_path / "kobo_odd.csv"]), *((p, "35.13") for p in fixtures)]

    together = _parse_surveys(files, regions)
    monkeypatch.setattr(survey, "_classify_items", _items_column_by_column)
    one_by_one = _parse_surveys(files, regions)
    assert sum(len(p.accepted) for p in one_by_one if not isinstance(p, str)) > 3000
    rules = pd.concat([p.rejected for p in one_by_one if not isinstance(p, str)])["rule"]
    assert {"out_of_scale", "invalid_value"} <= set(rules)
    _assert_same_outcomes(together, one_by_one)
