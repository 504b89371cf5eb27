"""The defects a sample plants, and the rule of data-contracts §3.4 each one breaks.

Room: the catalogue of planted defects per source/format (``KINDS``), how many rows of a
file get one (:class:`Planner`), the semantic edits that turn a generated row into a
defective one (``apply_survey_defects``, ``apply_fkdm_defects``) and the region look-ups
they need (:class:`RegionDefects`: a kecamatan name misspelt beyond recognition, a code
that does not exist, a desa of another kecamatan, a kecamatan just outside the scope, a
kecamatan name that several kecamatan of a wide scope share). Each planted row breaks
exactly one rule, so the counts in ``SampleSummary.planted_rules`` are rows. Rendering the
edited values into text is the format modules' job.

Statistics plant their three bad values themselves (``stats``); ``ambiguous_region`` can
only be planted where the reference data has a shared name in scope (a province or
``ALL``): Kabupaten Probolinggo has no two kecamatan, nor two desa of one kecamatan, that
share a name.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from harmoni_pipeline.periods import JAKARTA_OFFSET_S, shift
from harmoni_pipeline.regions import normalise_name
from harmoni_pipeline.sample.batch import Batch
from harmoni_pipeline.sample.context import SampleContext, month_start_unix

# kind → rule (contract §3.4 vocabulary)
RULE_OF = {
    # survey
    "missing_id": "missing_field",
    "missing_ts": "missing_field",
    "missing_kecamatan": "missing_field",
    "missing_sex": "missing_field",
    "missing_age": "missing_field",
    "invalid_sex": "invalid_value",
    "invalid_age_text": "invalid_value",
    "item_invalid": "invalid_value",          # 3.5, or an unknown Google Forms label
    "item_scale_low": "out_of_scale",         # 0
    "item_scale_high": "out_of_scale",        # 6
    "age_15": "age_out_of_range",
    "age_104": "age_out_of_range",
    "garbled_ts": "invalid_date",             # 31 November
    "late_ts": "invalid_date",                # after the end of the arrival month
    "late_ts_tz_edge": "invalid_date",        # Kobo: still the 30th in UTC, the 1st in Jakarta
    "unknown_kecamatan": "unknown_region",
    "desa_not_in_kecamatan": "unknown_region",
    "outside_kecamatan": "out_of_scope",
    "ambiguous_kecamatan": "ambiguous_region",  # a name several kecamatan of the scope share
    "duplicate": "duplicate_in_file",
    "empty": "empty_response",
    # FKDM
    "fk_missing_no": "missing_field",
    "fk_missing_lapor": "missing_field",
    "fk_missing_kejadian": "missing_field",
    "fk_missing_region": "missing_field",
    "fk_invalid_date": "invalid_date",
    "fk_invalid_kualifikasi": "invalid_value",
    "fk_invalid_bidang": "invalid_value",
    "fk_kejadian_after_lapor": "date_order",
    "fk_selesai_before_lapor": "date_order",
    "fk_unknown_region": "unknown_region",
    "fk_outside": "out_of_scope",
    "fk_duplicate": "duplicate_in_file",
}

KINDS = {
    "google_forms": [
        "missing_sex", "missing_age", "missing_kecamatan", "invalid_sex", "item_invalid", "age_15",
        "age_104", "garbled_ts", "unknown_kecamatan", "desa_not_in_kecamatan", "outside_kecamatan",
        "ambiguous_kecamatan", "empty",
    ],
    "kobo": [
        "missing_id", "missing_ts", "missing_kecamatan", "missing_sex", "missing_age", "invalid_sex",
        "item_invalid", "item_scale_low", "item_scale_high", "age_15", "age_104", "garbled_ts",
        "late_ts", "late_ts_tz_edge", "unknown_kecamatan", "desa_not_in_kecamatan", "outside_kecamatan",
        "duplicate", "empty",
    ],
    "canonical": [
        "missing_id", "missing_ts", "missing_kecamatan", "missing_sex", "missing_age", "invalid_sex",
        "invalid_age_text", "item_invalid", "item_scale_low", "item_scale_high", "age_15", "age_104",
        "garbled_ts", "late_ts", "unknown_kecamatan", "desa_not_in_kecamatan", "outside_kecamatan",
        "duplicate", "empty",
    ],
    "fkdm": [
        "fk_missing_no", "fk_missing_lapor", "fk_missing_kejadian", "fk_missing_region", "fk_invalid_date",
        "fk_invalid_kualifikasi", "fk_invalid_bidang", "fk_kejadian_after_lapor", "fk_selesai_before_lapor",
        "fk_unknown_region", "fk_outside", "fk_duplicate",
    ],
}  # fmt: skip

#: share of a file's rows that carry a defect
RATE = {"google_forms": 0.02, "kobo": 0.03, "canonical": 0.035, "fkdm": 0.04}
#: a file gets every kind of its format once it has this many good rows per kind
ROWS_PER_KIND = {"google_forms": 12, "kobo": 12, "canonical": 12, "fkdm": 6}

NO_KIND = ""


class Planner:
    """Which defect kinds go into each file. Kinds are dealt in turn per format, the turn
    carrying on from file to file (from a random start), so that every kind is planted
    as soon as the range holds enough defect rows, whatever the size of single files."""

    def __init__(self, rng: np.random.Generator):
        self._next = {fmt: int(rng.integers(0, len(kinds))) for fmt, kinds in KINDS.items()}

    def kinds(self, n_valid: int, fmt: str) -> np.ndarray:
        """Defect kinds for a file of ``n_valid`` good rows (``RATE``, at least one kind per
        ``ROWS_PER_KIND`` rows up to one of each)."""
        kinds = KINDS[fmt]
        if n_valid <= 0:
            return np.array([], dtype=object)
        n = max(int(round(RATE[fmt] * n_valid)), min(len(kinds), n_valid // ROWS_PER_KIND[fmt]))
        start = self._next[fmt]
        self._next[fmt] = (start + n) % len(kinds)
        return np.array([kinds[(start + i) % len(kinds)] for i in range(n)], dtype=object)


def count_rules(kinds: np.ndarray) -> dict[str, int]:
    if len(kinds) == 0:
        return {}
    values, counts = np.unique(kinds[kinds != NO_KIND].astype(str), return_counts=True)
    out: dict[str, int] = {}
    for v, c in zip(values.tolist(), counts.tolist()):
        rule = RULE_OF[v]
        out[rule] = out.get(rule, 0) + int(c)
    return out


class RegionDefects:
    """Region values that break a region rule on purpose (looked up lazily, cached)."""

    def __init__(self, ctx: SampleContext):
        self.ctx = ctx
        self._typos: dict[int, str] = {}
        self._alt_desa: dict[int, int] = {}

    def typo(self, k: int) -> str:
        """A misspelling of kecamatan ``k`` (letters swapped or dropped, never a mere
        space: the resolver ignores spaces) that the resolver finds nowhere."""
        if k not in self._typos:
            name = str(self.ctx.kec_name[k])
            letters = [i for i in range(len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()
                       and name[i].lower() != name[i + 1].lower()]  # fmt: skip
            candidates = []
            for i in letters[len(letters) // 2 :] + letters[: len(letters) // 2]:
                candidates.append(name[:i] + name[i + 1] + name[i] + name[i + 2 :])
            candidates += [name + "an", name + " Baru Tengah Selatan", "Kecamatan Antah Berantah"]
            found = self.ctx.regions.resolve_kecamatan(pd.Series(candidates, dtype="string"), "ALL")
            unknown = (found["rule"] == "unknown_region").fillna(False).to_numpy(dtype=bool)
            self._typos[k] = candidates[int(np.flatnonzero(unknown)[0])]
        return self._typos[k]

    @cached_property
    def _codes(self) -> set[str]:
        return set(self.ctx.regions.kecamatan["kode"].to_numpy(dtype=object))

    def unknown_code(self, k: int) -> str:
        """A well-formed kecamatan code in the kecamatan's kabupaten that does not exist."""
        kab = str(self.ctx.kec_kab[k])
        for n in range(99, 60, -1):
            code = f"{kab}.{n:02d}"
            if code not in self._codes:
                return code
        raise RuntimeError(f"no free kecamatan code in {kab}")

    def alt_desa(self, k: int) -> int:
        """A desa (context index) of another kecamatan of the same kabupaten whose name
        does not occur in kecamatan ``k`` (-1 when there is none)."""
        if k not in self._alt_desa:
            ctx = self.ctx
            own = {_compact(n) for n in ctx.desa_name[ctx.desa_kec == k]}
            same_kab = np.flatnonzero((ctx.kec_kab == ctx.kec_kab[k]) & (np.arange(ctx.n_kec) != k))
            found = -1
            for other in np.concatenate([same_kab[same_kab > k], same_kab[same_kab < k]]).tolist():
                start, cnt = ctx.desa_start[other], ctx.desa_count[other]
                for d in range(start, start + cnt):
                    if _compact(ctx.desa_name[d]) not in own and ctx.desa_usable[d]:
                        found = d
                        break
                if found >= 0:
                    break
            self._alt_desa[k] = found
        return self._alt_desa[k]

    @cached_property
    def ambiguous_kecamatan(self) -> np.ndarray:
        """Kecamatan (context indexes) whose name is shared by several kecamatan in scope."""
        names = pd.Series([normalise_name(n) for n in self.ctx.kec_name])
        return np.flatnonzero(names.map(names.value_counts()).to_numpy() > 1)


def _compact(name) -> str:
    return normalise_name(name).replace(" ", "")


def _pick_item(rng: np.random.Generator, items: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One answered item column per row (the first item when none is answered)."""
    answered = items[rows] > 0
    scores = rng.uniform(size=answered.shape) * answered
    return np.argmax(scores, axis=1)


def apply_survey_defects(
    ctx: SampleContext, regions: RegionDefects, batch: Batch, kinds: np.ndarray, fmt: str, period: str,
    rng: np.random.Generator,
) -> np.ndarray:
    """Edit the rows of ``batch`` (all of them defect rows, ``kinds[i]`` for row ``i``)
    so that each breaks its kind's rule. Kinds a scope cannot express are replaced (no
    neighbour outside ``ALL``: ``unknown_kecamatan``). Returns the kinds finally planted."""
    kinds = kinds.copy()
    n = len(batch)
    if n == 0:
        return kinds
    items = batch["items"]
    month_end = month_start_unix(shift(period, 1)) - JAKARTA_OFFSET_S  # first instant after M, UTC

    def rows(kind: str) -> np.ndarray:
        return np.flatnonzero(kinds == kind)

    # kinds that need a neighbour or a shared name the scope may not have
    out = rows("outside_kecamatan")
    if len(out) and ctx.outside_kecamatan is None:
        kinds[out] = "unknown_kecamatan"
    amb = rows("ambiguous_kecamatan")
    if len(amb):
        # Only a scope where several kecamatan share a name can hold an ambiguous name
        # (a province, ALL). Kabupaten Probolinggo has none — not even with its kabupaten
        # name left bare ("Probolinggo" = Kabupaten or Kota: the resolver narrows to
        # both and the kecamatan name then picks one) — so there it is unknown instead.
        shared = regions.ambiguous_kecamatan
        if len(shared):
            batch["kec"][amb] = shared[rng.integers(0, len(shared), len(amb))]
            batch["desa"][amb] = -1
        else:
            kinds[amb] = "unknown_kecamatan"
    dn = rows("desa_not_in_kecamatan")
    if len(dn):
        alt = np.array([regions.alt_desa(int(k)) for k in batch["kec"][dn]], dtype=np.int64)
        kinds[dn[alt < 0]] = "unknown_kecamatan"
        batch["alt_desa"][dn] = alt

    region_mode = batch["region_mode"]
    for kind, mode in (("missing_kecamatan", 1), ("unknown_kecamatan", 2), ("desa_not_in_kecamatan", 3),
                       ("outside_kecamatan", 4), ("ambiguous_kecamatan", 6)):  # fmt: skip
        region_mode[rows(kind)] = mode

    batch["id_missing"][rows("missing_id")] = True
    batch["ts_mode"][rows("missing_ts")] = 1
    batch["ts_mode"][rows("garbled_ts")] = 2
    late = rows("late_ts")
    batch["ts"][late] = month_end + rng.integers(3600 * 6, 86400 * 4, len(late))
    edge = rows("late_ts_tz_edge")
    batch["ts"][edge] = month_end + rng.integers(60, 3600 * 6, len(edge))  # 17:00–23:00 UTC on the last day
    batch["sex"][rows("missing_sex")] = -1
    batch["sex"][rows("invalid_sex")] = 2
    batch["age"][rows("missing_age")] = -1
    batch["age"][rows("invalid_age_text")] = -2
    batch["age"][rows("age_15")] = 15
    batch["age"][rows("age_104")] = 104
    items[rows("empty")] = 0
    for kind, code in (("item_invalid", 10), ("item_scale_low", 9), ("item_scale_high", 6)):
        r = rows(kind)
        if len(r):
            items[r, _pick_item(rng, items, r)] = code
    return kinds


def apply_fkdm_defects(
    ctx: SampleContext, regions: RegionDefects, batch: Batch, kinds: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """FKDM counterpart of :func:`apply_survey_defects` (``fk_duplicate`` rows are made by
    the FKDM module, which copies a report of the same file)."""
    kinds = kinds.copy()
    if len(batch) == 0:
        return kinds
    if ctx.outside_kecamatan is None:
        kinds[kinds == "fk_outside"] = "fk_unknown_region"
    mode = batch["defect_mode"]
    for i, kind in enumerate(("fk_missing_no", "fk_missing_lapor", "fk_missing_kejadian", "fk_missing_region",
                              "fk_invalid_date", "fk_invalid_kualifikasi", "fk_invalid_bidang",
                              "fk_kejadian_after_lapor", "fk_selesai_before_lapor", "fk_unknown_region",
                              "fk_outside"), start=1):  # fmt: skip
        mode[kinds == kind] = i
    r = np.flatnonzero(kinds == "fk_kejadian_after_lapor")
    batch["tgl_kejadian"][r] = batch["tgl_lapor"][r] + rng.integers(2, 20, len(r))
    r = np.flatnonzero(kinds == "fk_selesai_before_lapor")
    batch["tgl_selesai"][r] = batch["tgl_lapor"][r] - rng.integers(3, 40, len(r))
    batch["status"][r] = 3  # selesai
    return kinds
