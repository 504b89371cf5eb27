"""The world a sample is drawn from: scope, months, regions, file units, kecamatan profiles.

Room: what every source generator shares — the kecamatan and desa of the scope as numpy
arrays, the *file units* (one kabupaten for a kabupaten scope; one unit per province for
wider scopes, so a national sample is a few hundred files, not tens of thousands), the
synthetic kecamatan profiles (latent harmony and vigilance levels, survey volume, FKDM
hot spots) and keyed random streams. A stream is keyed by the seed and a name
(``ctx.rng("survey", "2025-11")``), so each part of the sample is reproducible on its own
and changing one part never shifts the random numbers of another. No file is written here;
nothing reads the wall clock.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from harmoni_pipeline.periods import month_range, parse_period
from harmoni_pipeline.regions import Regions, normalise_name


#: survey volume: valid responses per kecamatan and month, on average (kabupaten scope)
RESPONSES_PER_KECAMATAN_MONTH = 60
#: default cap for wide scopes (a province or ALL): responses over the whole range
WIDE_SCOPE_DEFAULT_RESPONSES = 200_000
#: FKDM reports per kecamatan and month, on average
REPORTS_PER_KECAMATAN_MONTH = 1.5
WIDE_SCOPE_DEFAULT_REPORTS = 60_000
#: share of kecamatan whose survey volume is kept far below the 30-respondent rule
LOW_VOLUME_SHARE = 0.12


def slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    text = re.sub(r"^Kabupaten\s+", "kab ", text)
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _compact_name(name) -> str:
    """A name as the region resolver compares it, spaces removed too (``Sumber Asih`` =
    ``Sumberasih``)."""
    return normalise_name(name).replace(" ", "")


def _key_int(key) -> int:
    if isinstance(key, (int, np.integer)):
        return int(key) & 0xFFFFFFFF
    return zlib.crc32(str(key).encode("utf-8"))


def month_start_unix(period: str) -> int:
    """Seconds since 1970-01-01 of the first instant of the month, on a naive clock."""
    y, m = parse_period(period)
    return int((np.datetime64(f"{y:04d}-{m:02d}-01") - np.datetime64("1970-01-01")) / np.timedelta64(1, "s"))


def days_in_month(period: str) -> int:
    y, m = parse_period(period)
    nxt = np.datetime64(f"{y + (m == 12):04d}-{m % 12 + 1:02d}-01")
    return int((nxt - np.datetime64(f"{y:04d}-{m:02d}-01")) / np.timedelta64(1, "D"))


@dataclass
class Unit:
    """A file unit: the area one set of exports covers (a kabupaten or a province)."""

    code: str
    name: str
    slug: str
    kec: np.ndarray  # indexes into the context's kecamatan arrays


@dataclass
class Profiles:
    """Per-kecamatan synthetic truth behind the sample (arrays aligned with kecamatan)."""

    ihai_level: np.ndarray      # target kecamatan mean item score (0–100) of IHaI items
    ikn_level: np.ndarray       # same for the IKN survey items
    gap: np.ndarray             # persepsi − partisipasi, score points
    volume: np.ndarray          # relative survey volume (mean ≈ 1; low-volume ≪ 1)
    low_volume: np.ndarray      # bool: deliberately under 30 respondents a year
    hot: np.ndarray             # 0–1 FKDM hot-spot intensity (more and graver reports)
    male_share: np.ndarray      # respondents' share of men (online skew)
    block_offset: np.ndarray    # (kecamatan, 15) offsets of X01–X10, KN1–KN5 around the levels


class SampleContext:
    """Scope, months, regions and random streams of one sample."""

    def __init__(self, regions: Regions, scope: str, start: str, end: str, seed: int):
        if int(seed) < 0:
            raise ValueError("seed must be >= 0")
        self.regions = regions
        self.scope = regions.validate_scope(scope)
        self.periods = month_range(start, end)
        self.seed = int(seed)
        kec = regions.kecamatan_in_scope(self.scope).sort_values("kode", ignore_index=True)
        if kec.empty:
            raise ValueError(f"scope {scope!r} holds no kecamatan")
        self.kec_frame = kec
        self.kec_code = kec["kode"].to_numpy(dtype=object)
        self.kec_name = kec["nama"].to_numpy(dtype=object)
        self.kec_kab = kec["kode_kabupaten"].to_numpy(dtype=object)
        self.kec_prov = kec["kode_provinsi"].to_numpy(dtype=object)
        self.n_kec = len(kec)
        self.kec_digits = np.array([c.replace(".", "") for c in self.kec_code], dtype=object)
        index = {c: i for i, c in enumerate(self.kec_code)}

        desa = regions.desa[regions.desa["kode_kecamatan"].isin(kec["kode"])]
        desa = desa.assign(_k=desa["kode_kecamatan"].map(index)).sort_values(["_k", "kode"], ignore_index=True)
        self.desa_code = desa["kode"].to_numpy(dtype=object)
        self.desa_name = desa["nama"].to_numpy(dtype=object)
        self.desa_kec = desa["_k"].to_numpy(dtype=np.int64)
        counts = np.bincount(self.desa_kec, minlength=self.n_kec)
        self.desa_count = counts
        self.desa_start = np.concatenate([[0], np.cumsum(counts)[:-1]])

        kab = regions.kabupaten.set_index("kode")["nama"]
        prov = regions.provinsi.set_index("kode")["nama"]
        self.kab_names = {k: str(kab[k]) for k in pd.unique(self.kec_kab)}
        self.prov_names = {p: str(prov[p]) for p in pd.unique(self.kec_prov)}
        self.single_kabupaten = len(self.kab_names) == 1
        self.kec_kab_name = np.array([self.kab_names[k] for k in self.kec_kab], dtype=object)
        self.kec_bare_kab_ok = self._bare_kabupaten_ok(kab)
        self.desa_is_kelurahan = np.array([c[9] == "1" for c in self.desa_code], dtype=bool)
        self.desa_needs_prefix, self.desa_usable = self._desa_name_clashes()
        self.units = self._units()
        self.unit_of_kec = np.zeros(self.n_kec, dtype=np.int64)
        for u, unit in enumerate(self.units):
            self.unit_of_kec[unit.kec] = u

    # ------------------------------------------------------------------ name clashes

    def _bare_kabupaten_ok(self, kab: pd.Series) -> np.ndarray:
        """Per kecamatan: whether its kabupaten may be written without ``Kabupaten``/
        ``Kota`` (``Probolinggo``): the bare name is shared with another kabupaten/kota
        and the kecamatan's name still picks out one kecamatan among all of them."""
        bare = kab.str.replace(r"^(Kabupaten|Kota)\s+", "", regex=True)
        shared = bare[bare.map(bare.value_counts()) > 1]
        if shared.empty:
            return np.zeros(self.n_kec, dtype=bool)
        kec = self.regions.kecamatan
        kec = kec[kec["kode_kabupaten"].isin(shared.index)]
        key = kec["kode_kabupaten"].map(shared) + "|" + kec["nama"].map(_compact_name)
        unique = set(kec.loc[key.map(key.value_counts()) == 1, "kode"])
        return np.array([c in unique for c in self.kec_code], dtype=bool)

    def _desa_name_clashes(self) -> tuple[np.ndarray, np.ndarray]:
        """(needs_prefix, usable) per desa. A few kecamatan hold a desa and a kelurahan
        of the same name (``Wuyukwi``): written with ``Desa``/``Kel.`` they resolve, so
        they are always written so; two *desa* of one name cannot be told apart by name
        at all, so respondents are never placed in them (they would be ambiguous)."""
        n = len(self.desa_code)
        if n == 0:
            return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
        frame = pd.DataFrame({"k": self.desa_kec, "n": [_compact_name(x) for x in self.desa_name],
                              "kel": self.desa_is_kelurahan})  # fmt: skip
        same_name = frame.groupby(["k", "n"])["kel"].transform("size").to_numpy() > 1
        same_kind = frame.groupby(["k", "n", "kel"])["kel"].transform("size").to_numpy() > 1
        return same_name & ~same_kind, ~same_kind

    def usable_desa(self, desa: np.ndarray) -> np.ndarray:
        """``desa`` with unusable desa (see :meth:`_desa_name_clashes`) moved to the first
        usable desa of their kecamatan (-1 if none)."""
        if not hasattr(self, "_usable_map"):
            m = np.arange(len(self.desa_code))
            for d in np.flatnonzero(~self.desa_usable).tolist():
                k = self.desa_kec[d]
                ok = np.flatnonzero(self.desa_usable[self.desa_start[k] : self.desa_start[k] + self.desa_count[k]])
                m[d] = self.desa_start[k] + ok[0] if len(ok) else -1
            self._usable_map = m
        desa = np.asarray(desa)
        return np.where(desa >= 0, self._usable_map[np.maximum(desa, 0)], -1)

    # ------------------------------------------------------------------ randomness

    def rng(self, *key) -> np.random.Generator:
        """An independent stream for ``key`` (strings and ints), reproducible from the seed."""
        return np.random.default_rng([self.seed, *(_key_int(k) for k in key)])

    # ------------------------------------------------------------------ units

    def _units(self) -> list[Unit]:
        if self.single_kabupaten:
            code = next(iter(self.kab_names))
            name = self.kab_names[code]
            return [Unit(code, name, slug(name), np.arange(self.n_kec))]
        units = []
        for code, name in sorted(self.prov_names.items()):
            units.append(Unit(code, name, "prov_" + slug(name), np.flatnonzero(self.kec_prov == code)))
        return units

    @property
    def years(self) -> list[int]:
        return sorted({int(p[:4]) for p in self.periods})

    # ------------------------------------------------------------------ profiles

    @cached_property
    def profiles(self) -> Profiles:
        rng = self.rng("profiles")
        k = self.n_kec
        # Stratified draws: whatever the seed, the levels cover their whole range, so a
        # kabupaten always shows several IHaI and IKN categories.
        u = (rng.permutation(k) + rng.uniform(size=k)) / k
        ihai = 48.0 + 46.0 * u
        v = np.sort((rng.permutation(k) + rng.uniform(size=k)) / k)
        # IKN correlates with IHaI (harmonious areas tend to be prepared) but not fully
        order = np.argsort(0.6 * u + 0.4 * rng.uniform(size=k), kind="stable")
        ikn_u = np.empty(k)
        ikn_u[order] = v
        ikn = 26.0 + 68.0 * ikn_u
        gap = rng.uniform(0.0, 24.0, size=k)
        volume = rng.lognormal(0.0, 0.3, size=k)
        low = np.zeros(k, dtype=bool)
        if self.single_kabupaten:
            n_low = max(1, int(round(LOW_VOLUME_SHARE * k))) if k >= 4 else 0
            low[rng.choice(k, size=n_low, replace=False)] = True
        else:
            low = rng.uniform(size=k) < LOW_VOLUME_SHARE
        volume = np.where(low, rng.uniform(0.005, 0.02, size=k), volume)
        hot = np.clip((68.0 - ikn) / 40.0, 0.0, 1.0) ** 1.5
        male = np.clip(rng.normal(0.61, 0.03, size=k), 0.5, 0.72)
        blocks = self.rng("block-offsets").normal(0.0, 4.0, size=(k, 15))
        return Profiles(ihai, ikn, gap, volume, low, hot, male, blocks)

    @cached_property
    def bps_codes(self) -> np.ndarray:
        """7-digit BPS code per kecamatan (None where the 2020 bridge lacks it)."""
        from harmoni_pipeline.regions import BRIDGE_FILE, REFERENCE_DIR

        bridge = pd.read_csv(REFERENCE_DIR / BRIDGE_FILE, dtype=str, keep_default_na=False)
        of = dict(zip(bridge["kode_kemendagri"], bridge["kode_bps"]))
        return np.array([of.get(c) for c in self.kec_code], dtype=object)

    # ------------------------------------------------------------------ neighbours

    @cached_property
    def outside_kecamatan(self) -> tuple[str, str, str, str, str] | None:
        """A kecamatan just outside the scope, for ``out_of_scope`` plants:
        (kode_kabupaten, nama_kabupaten, kode_kecamatan, nama_kecamatan, kode_desa)."""
        if self.scope == "ALL":
            return None
        r = self.regions
        kabs = r.kabupaten
        inside = set(self.kab_names)
        candidates = kabs[~kabs["kode"].isin(inside)]
        if self.single_kabupaten:
            own = next(iter(self.kab_names.values()))
            base = re.sub(r"^(Kabupaten|Kota)\s+", "", own)
            same_prov = candidates[candidates["kode_provinsi"] == self.kec_prov[0]]
            twin = same_prov[same_prov["nama"].str.replace(r"^(Kabupaten|Kota)\s+", "", regex=True) == base]
            pick = twin if len(twin) else same_prov if len(same_prov) else candidates
        else:
            pick = candidates
        if pick.empty:
            return None
        kab_code = str(pick["kode"].iloc[0])
        kec = r.kecamatan[r.kecamatan["kode_kabupaten"] == kab_code].sort_values("kode")
        # a kecamatan whose name exists nowhere in scope (so the name cannot resolve here)
        names_in_scope = {str(n).casefold() for n in self.kec_name}
        kec = kec[~kec["nama"].str.casefold().isin(names_in_scope)]
        if kec.empty:
            return None
        row = kec.iloc[min(1, len(kec) - 1)]
        desa = r.desa[r.desa["kode_kecamatan"] == row["kode"]].sort_values("kode")
        return (kab_code, str(pick["nama"].iloc[0]), str(row["kode"]), str(row["nama"]), str(desa["kode"].iloc[0]))
