"""Region codes, names and scope: the Kemendagri 2025 code list, and turning what people
write (codes in several forms, names in many spellings) into Kemendagri codes.

Room: region codes, names and scope. This module knows the packaged reference data in
``harmoni_pipeline/reference/`` (see its README for provenance) and nothing else: no
Dagster, no landing zone, no warehouse. Parsers call it; it never reads their files.

How codes, names, scope and desa are resolved, and the bridge's re-pointing:
``docs/ingestion.md`` (*Regions: codes, names and scope*). The pieces: names in
:mod:`harmoni_pipeline.regions_names`, codes and the vectorised mapping in
:mod:`harmoni_pipeline.regions_codes`, the reference data and the resolvers here.

Every ``resolve_*`` returns a DataFrame aligned with its input (same index) with columns
``kode`` (``string``; NA unless resolved), ``rule`` (NA or one of :data:`RULES`) and
``message`` (a short English explanation, NA when fine). They resolve each distinct value
once and map the results back, so a million rows with a few hundred distinct values cost
a few hundred dictionary look-ups.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from harmoni_pipeline.regions_codes import (  # ALL, RULES and the rule names are re-exported
    ALL, AMBIGUOUS_REGION, LEVELS, MISSING_FIELD, OUT_OF_SCOPE, RULES, UNKNOWN_REGION, _BADCODE, _BPS,
    _CODE, _COLUMNS, _FLOAT_ARTEFACT, _LEVEL_LABEL, _MAX_LISTED, _MISSING, _NAME, _OK_NONE, _Result,
    _as_series, _as_text, _hashable, _level, _list_codes, _map_distinct, _map_distinct_pairs, _parse,
    _quote, _within,
)
from harmoni_pipeline.regions_names import _compact, _kab_name_key, _with_compact, name_keys, normalise_name

REFERENCE_DIR = Path(__file__).parent / "reference"
WILAYAH_FILE = "wilayah_kemendagri_2025.csv"
BRIDGE_FILE = "kecamatan_bps_kemendagri_2020.csv"
POPULATION_FILE = "penduduk_kabkota_2025.csv"
POPULATION_YEAR = 2025  # the year of POPULATION_FILE's figures
AREA_FILE = "luas_wilayah.csv"
VARIANTS_FILE = "name_variants.yaml"




class Regions:
    """The Kemendagri 2025 region list with population, area, the BPS bridge and the
    name-variant table, plus vectorised resolvers. Use :meth:`load` (one per process)."""

    _instance: "Regions | None" = None
    _lock = threading.Lock()

    provinsi: pd.DataFrame
    kabupaten: pd.DataFrame
    kecamatan: pd.DataFrame
    desa: pd.DataFrame
    population: pd.DataFrame
    luas: pd.DataFrame
    name_variants_version: int

    # ------------------------------------------------------------------ loading

    @classmethod
    def load(cls) -> "Regions":
        """The packaged reference data, loaded once per process."""
        if cls._instance is None:
            with cls._lock:
                if cls._instance is None:
                    cls._instance = cls.from_directory(REFERENCE_DIR)
        return cls._instance

    @classmethod
    def from_directory(cls, directory: str | Path) -> "Regions":
        """Load from a directory holding the reference files (tests; :meth:`load` is the
        normal entry point)."""
        d = Path(directory)
        wilayah = pd.read_csv(d / WILAYAH_FILE, dtype=str, keep_default_na=False, engine="pyarrow")
        bridge = pd.read_csv(d / BRIDGE_FILE, dtype=str, keep_default_na=False, engine="pyarrow")
        population = pd.read_csv(d / POPULATION_FILE, dtype={"kode": str, "nama": str}, engine="pyarrow")
        luas = pd.read_csv(d / AREA_FILE, dtype={"kode": str, "nama": str}, engine="pyarrow")
        with (d / VARIANTS_FILE).open(encoding="utf-8") as fh:
            variants = yaml.safe_load(fh)
        return cls(wilayah, bridge, population, luas, variants)

    def __init__(
        self,
        wilayah: pd.DataFrame,
        bridge: pd.DataFrame,
        population: pd.DataFrame,
        luas: pd.DataFrame,
        variants: dict,
    ) -> None:
        kode = wilayah["kode"].astype(str).str.strip().to_numpy(dtype=object)
        nama = wilayah["nama"].astype(str).str.strip().to_numpy(dtype=object)
        self._names: dict[str, str] = dict(zip(kode, nama))
        if len(self._names) != len(kode):
            raise ValueError(f"{WILAYAH_FILE}: duplicate codes")
        depth = np.fromiter((k.count(".") for k in kode), dtype=np.int8, count=len(kode))

        def frame(level: int, parents: dict[str, int]) -> pd.DataFrame:
            sel = depth == level
            k = kode[sel]
            cols: dict[str, Any] = {"kode": k, "nama": nama[sel]}
            for col, width in parents.items():
                cols[col] = np.array([c[:width] for c in k], dtype=object)
            return pd.DataFrame(cols).astype("string")

        self.provinsi = frame(0, {})
        self.kabupaten = frame(1, {"kode_provinsi": 2})
        self.kecamatan = frame(2, {"kode_kabupaten": 5, "kode_provinsi": 2})
        self.desa = frame(3, {"kode_kecamatan": 8})

        pop = population.copy()
        pop["kode"] = pop["kode"].astype(str).str.strip()
        pop = pop[pop["kode"] != "0"].reset_index(drop=True)
        for col in ("pria", "wanita", "total"):
            pop[col] = pop[col].astype("int64")
        pop["kode"] = pop["kode"].astype("string")
        pop["nama"] = pop["nama"].astype("string")
        self.population = pop[["kode", "nama", "pria", "wanita", "total"]]

        area = luas.copy()
        area["kode"] = area["kode"].astype(str).str.strip().astype("string")
        area["nama"] = area["nama"].astype("string")
        area["luas_km2"] = area["luas_km2"].astype("float64")
        self.luas = area[["kode", "nama", "luas_km2"]]

        self._variants = self._check_variants(variants)
        self.name_variants_version = int(variants["version"])
        self._validate_variants()
        self._bridge = self._build_bridge(bridge)
        self._scope_cache: dict[Any, str] = {}

        # kecamatan name index: normalised name -> codes
        kec_index: dict[str, list[str]] = defaultdict(list)
        kec_names = zip(self.kecamatan["kode"].to_numpy(dtype=object), self.kecamatan["nama"].to_numpy(dtype=object))
        kec_variants = ((v["kode"], v["variant"]) for v in self._variants if v["level"] == "kecamatan")
        for k, n in (*kec_names, *kec_variants):
            key = normalise_name(n)
            for index_key in (key, _compact(key)):
                codes = kec_index[index_key]
                if k not in codes:
                    codes.append(k)
        self._kec_index = {key: tuple(codes) for key, codes in kec_index.items()}

        # kabupaten name indexes: (type, base) -> codes, and base -> codes
        full: dict[tuple, list[str]] = defaultdict(list)
        base: dict[str, list[str]] = defaultdict(list)
        names = list(zip(self.kabupaten["kode"].to_numpy(dtype=object), self.kabupaten["nama"].to_numpy(dtype=object)))
        names += [(v["kode"], v["variant"]) for v in self._variants if v["level"] == "kabupaten"]
        for k, n in names:
            kind, b = _kab_name_key(n)
            if kind is not None and k not in full[(kind, b)]:
                full[(kind, b)].append(k)
            if k not in base[b]:
                base[b].append(k)
        self._kab_full = {key: tuple(c) for key, c in full.items()}
        self._kab_base = {key: tuple(c) for key, c in base.items()}

    @staticmethod
    def _check_variants(variants: Any) -> list[dict]:
        if not isinstance(variants, dict) or "version" not in variants:
            raise ValueError(f"{VARIANTS_FILE}: expected a mapping with 'version' and 'variants'")
        entries = variants.get("variants") or []
        return [dict(e) for e in entries]

    def _validate_variants(self) -> None:
        for e in self._variants:
            level, within, variant, kode = (e.get(k) for k in ("level", "within", "variant", "kode"))
            where = f"{VARIANTS_FILE}: entry {e!r}"
            if level not in ("kabupaten", "kecamatan", "desa"):
                raise ValueError(f"{where}: level must be kabupaten, kecamatan or desa")
            if not variant or not isinstance(variant, str):
                raise ValueError(f"{where}: variant must be a non-empty string")
            if kode not in self._names or _level(kode) != level:
                raise ValueError(f"{where}: {kode!r} is not a known {level} code")
            if not isinstance(within, str) or not _within(kode, (within,)):
                raise ValueError(f"{where}: {kode!r} does not lie within {within!r}")

    def _build_bridge(self, bridge: pd.DataFrame) -> dict[str, str]:
        """BPS 7-digit -> Kemendagri 2025 kecamatan code (see the module docstring)."""
        rows = list(
            zip(
                bridge["kode_bps"].str.strip(),
                bridge["kode_kemendagri"].str.strip(),
                bridge["nama_kemendagri"],
                bridge["nama_bps"],
            )
        )
        mapping: dict[str, str] = {}
        stale = []
        for bps, kmd, nama_kmd, nama_bps in rows:
            if self._names.get(kmd) is not None and kmd.count(".") == 2:
                mapping[bps] = kmd
            else:
                stale.append((bps, kmd, normalise_name(nama_kmd), normalise_name(nama_bps)))
        if not stale:
            return mapping
        # 2025 kecamatan that no valid bridge row points at, by name
        targeted = set(mapping.values())
        free: dict[str, list[str]] = defaultdict(list)
        for k in self.kecamatan["kode"].to_numpy(dtype=object):
            if k not in targeted:
                free[normalise_name(self._names[k])].append(k)

        def by_name(nk: str, nb: str, prefix: str | None) -> list[str]:
            for key in (nk, nb):
                found = [c for c in free.get(key, ()) if prefix is None or c.startswith(prefix + ".")]
                if found:
                    return found
            return []

        votes: dict[str, Counter] = defaultdict(Counter)
        for _, kmd, nk, nb in stale:
            found = by_name(nk, nb, None)
            if len(found) == 1:
                votes[kmd[:5]][found[0][:5]] += 1
        new_kab = {old: c.most_common(1)[0][0] for old, c in votes.items() if len(c) == 1}
        for bps, kmd, nk, nb in stale:
            target = new_kab.get(kmd[:5])
            if target is None:
                continue
            found = by_name(nk, nb, target)
            if len(found) == 1:
                mapping[bps] = found[0]
        return mapping

    @cached_property
    def _desa_index(self) -> dict[str, str | tuple[str, ...]]:
        """``'<kecamatan code>|<name key>'`` -> desa code (a tuple when several desa of one
        kecamatan share the key); spaced and compact keys; built on first use (~0.2 s)."""
        kode = self.desa["kode"].to_numpy(dtype=object)
        kec = self.desa["kode_kecamatan"].to_numpy(dtype=object)
        nama = self.desa["nama"].to_numpy(dtype=object)
        keys_of = {n: normalise_name(n) for n in set(nama)}
        names = [keys_of[n] for n in nama]
        variants = [v for v in self._variants if v["level"] == "desa"]
        flat_keys = [c + "|" + n for c, n in zip(kec, names)]
        flat_keys += [c + "|#" + n.replace(" ", "") for c, n in zip(kec, names)]  # _compact, inlined
        flat_keys += [v["kode"][:8] + "|" + normalise_name(v["variant"]) for v in variants]
        flat_keys += [v["kode"][:8] + "|" + _compact(normalise_name(v["variant"])) for v in variants]
        flat_codes = [*kode, *kode, *(v["kode"] for v in variants), *(v["kode"] for v in variants)]
        index: dict[str, str | tuple[str, ...]] = dict(zip(flat_keys, flat_codes))
        key_ids, _ = pd.factorize(np.array(flat_keys, dtype=object))
        shared = np.bincount(key_ids)[key_ids] > 1
        if shared.any():
            groups: dict[str, list[str]] = defaultdict(list)
            for i in np.flatnonzero(shared):
                if flat_codes[i] not in groups[flat_keys[i]]:
                    groups[flat_keys[i]].append(flat_codes[i])
            for key, codes in groups.items():
                index[key] = codes[0] if len(codes) == 1 else tuple(codes)
        return index

    def _desa_lookup(self, kec_code: str, key: str) -> tuple[str, ...]:
        found = self._desa_index.get(kec_code + "|" + key)
        if found is None:
            return ()
        return (found,) if isinstance(found, str) else found

    # ------------------------------------------------------------------ lookups

    def name_of(self, kode: str) -> str | None:
        """The official name of any level's code (None when unknown)."""
        return self._names.get(kode)

    def _label(self, kode: str) -> str:
        name = self._names.get(kode)
        return f"{kode} ({name})" if name else kode

    # ------------------------------------------------------------------ scope

    def validate_scope(self, scope: str) -> str:
        """The canonical scope (``'35.13'``, ``'35'`` or ``'ALL'``) or a ValueError."""
        try:
            return self._scope_cache[scope]
        except (KeyError, TypeError):
            pass
        text = _as_text(scope)
        hint = "expected a province code ('35'), a kabupaten/kota code ('35.13') or 'ALL'"
        if text is None:
            raise ValueError(f"invalid region scope {scope!r}: {hint}")
        if text.lower() == "all":
            result = ALL
        else:
            kind, code, _ = _parse(text)
            if kind != _CODE:
                raise ValueError(f"invalid region scope {scope!r}: {hint}")
            if code not in self._names:
                raise ValueError(f"invalid region scope {scope!r}: no province or kabupaten/kota has code {code}")
            if code.count(".") > 1:
                raise ValueError(
                    f"invalid region scope {scope!r}: {code} is a {_level(code)}; {hint}"
                )
            result = code
        try:
            self._scope_cache[scope] = result
        except TypeError:
            pass
        return result

    @staticmethod
    def _prefixes(scope: str) -> tuple[str, ...] | None:
        return None if scope == ALL else (scope,)

    def kecamatan_in_scope(self, scope: str) -> pd.DataFrame:
        """The rows of :attr:`kecamatan` inside ``scope`` (fresh index)."""
        mask = self.in_scope(self.kecamatan["kode"], scope)
        return self.kecamatan[mask.to_numpy()].reset_index(drop=True)

    def in_scope(self, codes: pd.Series, scope: str) -> pd.Series:
        """Whether each Kemendagri code (any level, canonical dotted form) lies in
        ``scope``; NA codes are not in scope."""
        scope = self.validate_scope(scope)
        s = pd.Series(codes).astype("string")
        if scope == ALL:
            out = s.notna()
        else:
            out = (s == scope) | s.str.startswith(scope + ".")
            out = out.fillna(False)
        return out.astype(bool)

    # ------------------------------------------------------------------ resolvers

    def resolve_kecamatan(
        self,
        values: pd.Series,
        scope: str,
        kabupaten: pd.Series | str | None = None,
    ) -> pd.DataFrame:
        """Kecamatan codes for codes (any form, or BPS 7-digit) or names; names are looked
        up within the row's ``kabupaten`` (names or codes, aligned with ``values``; a
        scalar applies to every row) where it is given and resolves, else within ``scope``.
        See the module docstring for the rules."""
        scope = self.validate_scope(scope)
        values = _as_series(values)
        kab_ctx: dict[Any, tuple[tuple[str, ...], str] | None] = {}

        def context(kab: Any) -> tuple[tuple[str, ...], str] | None:
            key = _hashable(kab)
            if key not in kab_ctx:
                kab_ctx[key] = self._kab_context(kab)
            return kab_ctx[key]

        if kabupaten is None or (not isinstance(kabupaten, pd.Series) and _as_text(kabupaten) is None):
            return _map_distinct(values, lambda v: self._kecamatan_one(v, scope, None))
        if not isinstance(kabupaten, pd.Series):
            ctx = context(kabupaten)
            return _map_distinct(values, lambda v: self._kecamatan_one(v, scope, ctx))
        return _map_distinct_pairs(
            values,
            kabupaten,
            lambda v, k: self._kecamatan_one(v, scope, context(k)),
        )

    def resolve_desa(
        self,
        values: pd.Series,
        kecamatan_codes: pd.Series,
        scope: str,
        *,
        required: bool = False,
    ) -> pd.DataFrame:
        """Desa codes for codes (any form) or names looked up within the row's kecamatan
        (``kecamatan_codes``: Kemendagri kecamatan codes aligned with ``values``, NA where
        unknown). An empty value gives NA/NA unless ``required`` (then ``missing_field``)."""
        scope = self.validate_scope(scope)
        values = _as_series(values)
        if not isinstance(kecamatan_codes, pd.Series):
            kecamatan_codes = pd.Series([kecamatan_codes] * len(values), index=values.index, dtype=object)
        return _map_distinct_pairs(
            values,
            kecamatan_codes,
            lambda v, k: self._desa_one(v, k, scope, required),
        )

    def resolve_kabupaten(self, values: pd.Series) -> pd.DataFrame:
        """Kabupaten/kota codes (nationwide, no scope) for codes (``35.13``, ``3513``,
        ``35_13``) or names with or without ``Kab.``/``Kabupaten``/``Kota``; a bare name
        shared by a kabupaten and a kota (``Probolinggo``) is ``ambiguous_region``."""
        values = _as_series(values)
        return _map_distinct(values, lambda v: self._kabupaten_one(v)[:3])

    def resolve_wilayah_code(self, values: pd.Series, scope: str) -> pd.DataFrame:
        """Statistics' ``kode_wilayah``: a kecamatan or a kabupaten/kota code (any form, or
        a BPS 7-digit kecamatan code). Adds ``level`` (``'kecamatan'``/``'kabupaten'``, NA
        when unresolved). Names are not accepted here (``unknown_region``)."""
        scope = self.validate_scope(scope)
        values = _as_series(values)
        return _map_distinct(values, lambda v: self._wilayah_one(v, scope), [*_COLUMNS, "level"])

    def bps_to_kemendagri(self, bps_codes: pd.Series) -> pd.Series:
        """7-digit BPS kecamatan codes -> Kemendagri ``PP.KK.CC`` (NA when not bridged)."""
        s = _as_series(bps_codes)

        def one(v: Any) -> _Result:
            text = _as_text(v)
            if text is None:
                return (None,)
            m = _FLOAT_ARTEFACT.fullmatch(text)
            return (self._bridge.get(m.group(1) if m else text),)

        out = _map_distinct(s, one, ["kode"])
        return out["kode"].rename(s.name)

    # ------------------------------------------------------------------ one value

    def _code_result(self, code: str, want: str, scope: str, shown: str) -> _Result:
        name = self._names.get(code)
        label = _LEVEL_LABEL[want]
        if name is None:
            return (None, UNKNOWN_REGION, f"{label} code {shown} not found")
        level = _level(code)
        if level != want:
            return (None, UNKNOWN_REGION, f"{shown} is a {_LEVEL_LABEL[level]} code, not a {label} code")
        if not _within(code, self._prefixes(scope)):
            return (None, OUT_OF_SCOPE, f"{label} {shown} ({name}) is outside scope {scope}")
        return (code, None, None)

    def _bps_code(self, digits: str) -> tuple[str | None, _Result | None]:
        code = self._bridge.get(digits)
        if code is None:
            return None, (None, UNKNOWN_REGION, f"BPS kecamatan code {digits} is not in the BPS-Kemendagri bridge")
        return code, None

    def _kecamatan_one(self, value: Any, scope: str, ctx: tuple[tuple[str, ...], str] | None) -> _Result:
        kind, code, text = _parse(value)
        if kind == _MISSING:
            return (None, MISSING_FIELD, "kecamatan is empty")
        if kind == _BADCODE:
            return (None, UNKNOWN_REGION, f"{_quote(text)} is not a valid kecamatan code")
        if kind == _BPS:
            kmd, err = self._bps_code(code)
            if err:
                return err
            return self._code_result(kmd, "kecamatan", scope, f"{kmd} (BPS {code})")
        if kind == _CODE:
            return self._code_result(code, "kecamatan", scope, code)
        keys = _with_compact(name_keys(text)[0])
        if ctx is None:
            prefixes, where = self._prefixes(scope), f"scope {scope}"
        else:
            prefixes, where = ctx
        return self._resolve_name("kecamatan", text, keys, self._kec_index, prefixes, where, scope)

    def _resolve_name(
        self,
        level: str,
        text: str,
        keys: list[str],
        index: dict[str, tuple[str, ...]],
        prefixes: tuple[str, ...] | None,
        where: str,
        scope: str,
    ) -> _Result:
        here: list[str] = []
        anywhere: tuple[str, ...] = ()
        for key in keys:
            found = index.get(key)
            if not found:
                continue
            here = [c for c in found if _within(c, prefixes)]
            if here:
                break
            if not anywhere:
                anywhere = found
        scope_prefixes = self._prefixes(scope)
        if here:
            in_scope = [c for c in here if _within(c, scope_prefixes)]
            if len(in_scope) == 1:
                return (in_scope[0], None, None)
            if len(in_scope) > 1:
                return (
                    None,
                    AMBIGUOUS_REGION,
                    f"{level} {_quote(text)} matches {len(in_scope)} {level} in {where}: {_list_codes(in_scope)}",
                )
            return (None, OUT_OF_SCOPE, f"{level} {_quote(text)} ({_list_codes(here)}) is outside scope {scope}")
        if anywhere:
            return (
                None,
                OUT_OF_SCOPE,
                f"{level} {_quote(text)} not in {where}; it exists elsewhere: {_list_codes(list(anywhere))}",
            )
        return (None, UNKNOWN_REGION, f"{level} {_quote(text)} not found")

    def _kab_context(self, kab: Any) -> tuple[tuple[str, ...], str] | None:
        """Prefixes a row's Kabupaten/Kota narrows names to (None: not usable, use scope)."""
        kode, rule, _, candidates = self._kabupaten_one(kab)
        if kode is not None:
            return (kode,), self._label(kode)
        if rule == AMBIGUOUS_REGION and candidates:
            return tuple(candidates), f"{_quote(_as_text(kab))} ({', '.join(candidates)})"
        return None

    def _kabupaten_one(self, value: Any) -> tuple[str | None, str | None, str | None, tuple[str, ...]]:
        kind, code, text = _parse(value)
        if kind == _MISSING:
            return (None, MISSING_FIELD, "kabupaten/kota is empty", ())
        if kind in (_BADCODE, _BPS):
            return (None, UNKNOWN_REGION, f"{_quote(text)} is not a valid kabupaten/kota code", ())
        if kind == _CODE:
            return (*self._code_result(code, "kabupaten", ALL, code), ())
        typ, base = _kab_name_key(text)
        found = self._kab_full.get((typ, base), ()) if typ else self._kab_base.get(base, ())
        if len(found) == 1:
            return (found[0], None, None, found)
        if len(found) > 1:
            listed = ", ".join(self._label(c) for c in found[:_MAX_LISTED])
            return (None, AMBIGUOUS_REGION, f"kabupaten/kota {_quote(text)} matches {len(found)}: {listed}", found)
        return (None, UNKNOWN_REGION, f"kabupaten/kota {_quote(text)} not found", ())

    def _desa_one(self, value: Any, kec: Any, scope: str, required: bool) -> _Result:
        kind, code, text = _parse(value)
        if kind == _MISSING:
            return (None, MISSING_FIELD, "desa/kelurahan is empty") if required else _OK_NONE
        kec_kind, kec_code, kec_text = _parse(kec)
        kec_given = kec_kind != _MISSING
        if kec_kind == _BPS:
            kec_code = self._bridge.get(kec_code)
        elif kec_kind != _CODE:
            kec_code = None
        if kec_code is not None and (kec_code not in self._names or kec_code.count(".") != 2):
            kec_code = None
        if kind in (_BADCODE, _BPS):
            return (None, UNKNOWN_REGION, f"{_quote(text)} is not a valid desa/kelurahan code")
        if kind == _CODE:
            name = self._names.get(code)
            if name is None:
                return (None, UNKNOWN_REGION, f"desa/kelurahan code {code} not found")
            if code.count(".") != 3:
                return (None, UNKNOWN_REGION, f"{code} is a {_LEVEL_LABEL[_level(code)]} code, not a desa/kelurahan code")
            if kec_given and code[:8] != kec_code:
                where = self._label(kec_code) if kec_code else _quote(kec_text)
                return (None, UNKNOWN_REGION, f"desa/kelurahan {code} ({name}) is not in kecamatan {where}")
            return self._code_result(code, "desa", scope, code)
        if not kec_given:
            return (None, UNKNOWN_REGION, f"desa/kelurahan {_quote(text)} cannot be resolved without a kecamatan")
        if kec_code is None:
            return (
                None,
                UNKNOWN_REGION,
                f"desa/kelurahan {_quote(text)}: kecamatan {_quote(kec_text)} is not a known kecamatan code",
            )
        keys, hint = name_keys(text)
        keys = _with_compact(keys)
        found: tuple[str, ...] = ()
        for key in keys:
            found = self._desa_lookup(kec_code, key)
            if found:
                break
        if not found:
            return (None, UNKNOWN_REGION, f"desa/kelurahan {_quote(text)} not found in kecamatan {self._label(kec_code)}")
        if len(found) > 1 and hint is not None:
            narrowed = [c for c in found if (c[9] == "1") == (hint == "kelurahan")]
            if len(narrowed) == 1:
                found = tuple(narrowed)
        if len(found) > 1:
            return (
                None,
                AMBIGUOUS_REGION,
                f"desa/kelurahan {_quote(text)} matches {len(found)} in kecamatan {self._label(kec_code)}: "
                f"{_list_codes(list(found))}",
            )
        return self._code_result(found[0], "desa", scope, found[0])

    def _wilayah_one(self, value: Any, scope: str) -> _Result:
        kind, code, text = _parse(value)
        if kind == _MISSING:
            return (None, MISSING_FIELD, "kode_wilayah is empty", None)
        if kind == _NAME or kind == _BADCODE:
            return (None, UNKNOWN_REGION, f"{_quote(text)} is not a kecamatan or kabupaten/kota code", None)
        shown = code
        if kind == _BPS:
            kmd, err = self._bps_code(code)
            if err:
                return (*err, None)
            code, shown = kmd, f"{kmd} (BPS {code})"
        name = self._names.get(code)
        if name is None:
            return (None, UNKNOWN_REGION, f"region code {shown} not found", None)
        level = _level(code)
        if level not in ("kecamatan", "kabupaten"):
            return (
                None,
                UNKNOWN_REGION,
                f"{shown} is a {_LEVEL_LABEL[level]} code; statistics need a kecamatan or kabupaten/kota code",
                None,
            )
        result = self._code_result(code, level, scope, shown)
        return (*result, level if result[0] is not None else None)
