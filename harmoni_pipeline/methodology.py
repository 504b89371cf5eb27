"""The scoring methodology: the versioned YAML as a typed object, and its item catalog.

Room: loading ``config/<version>.yaml`` (:func:`load`, the one loader), its SHA-256
(recorded with every output), the item catalog parsers and the sample generator read
(which columns are items, which are reversed, the answer scale and labels) and small pure
helpers every scoring module shares (bands). :data:`DEFAULT_VERSION` is the one place the
version in use is named. No computation over data lives here; the formulas are in
:mod:`harmoni_pipeline.scoring`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

METHODOLOGY_DIR = Path(__file__).parent / "config"
DEFAULT_VERSION = "HM-2026.1"


@dataclass(frozen=True)
class Bands:
    """Ordered (label, lower bound inclusive) pairs, checked top-down; the last has no bound."""

    labels: tuple[str, ...]
    lower: tuple[float | None, ...]

    @classmethod
    def from_yaml(cls, rows: list) -> "Bands":
        return cls(tuple(str(r[0]) for r in rows), tuple(None if r[1] is None else float(r[1]) for r in rows))

    def classify(self, values) -> "pd.Series":
        """Band label per value (unrounded); NULL stays NULL."""
        import numpy as np  # here, not at import: the command line reads the version without them
        import pandas as pd

        x = pd.Series(values, dtype="float64")
        conditions, choices = [], []
        for label, lo in zip(self.labels, self.lower):
            conditions.append(x.notna().to_numpy() if lo is None else (x >= lo).fillna(False).to_numpy())
            choices.append(label)
        out = np.select(conditions, choices, default="")
        return pd.Series(out, index=x.index, dtype="string").replace("", pd.NA)


@dataclass(frozen=True)
class Methodology:
    version: str
    sha256: str
    raw: dict = field(repr=False, compare=False)

    # ---- survey -------------------------------------------------------------------
    @property
    def scale(self) -> tuple[float, float]:
        return float(self.raw["scale"]["min"]), float(self.raw["scale"]["max"])

    @property
    def aspects(self) -> list[str]:
        return list(self.raw["aspects"])

    @property
    def reverse_items(self) -> frozenset[str]:
        return frozenset(self.raw["reverse_items"])

    @property
    def window_months(self) -> int:
        return int(self.raw["survey"]["window_months"])

    @property
    def min_n(self) -> int:
        return int(self.raw["survey"]["min_n"])

    @property
    def raking(self) -> dict:
        return self.raw["survey"]["raking"]

    # ---- IHaI ---------------------------------------------------------------------
    @property
    def ihai(self) -> dict:
        return self.raw["ihai"]

    @property
    def ihai_weights(self) -> dict[str, float]:
        return {code: float(spec[2]) for code, spec in self.ihai["variables"].items()}

    @property
    def ihai_dimension_of(self) -> dict[str, str]:
        return {code: str(spec[0]) for code, spec in self.ihai["variables"].items()}

    @property
    def ihai_bands(self) -> Bands:
        return Bands.from_yaml(self.ihai["bands"])

    # ---- IKN ----------------------------------------------------------------------
    @property
    def ikn(self) -> dict:
        return self.raw["ikn"]

    @property
    def ikn_dimensions(self) -> list[str]:
        return list(self.ikn["dimensions"])

    @property
    def ikn_bands(self) -> Bands:
        return Bands.from_yaml(self.ikn["bands"])

    @property
    def risk_bands(self) -> Bands:
        return Bands.from_yaml(self.ikn["risk_bands"])

    @property
    def integration(self) -> dict:
        return self.raw["integration"]

    def with_min_n(self, min_n: int) -> "Methodology":
        """A copy with another ``min_n`` (tests of the worked examples lower it)."""
        raw = {**self.raw, "survey": {**self.raw["survey"], "min_n": int(min_n)}}
        return Methodology(self.version, self.sha256, raw)


@lru_cache(maxsize=None)
def load(version: str = DEFAULT_VERSION) -> Methodology:
    """The methodology of ``version`` with the SHA-256 of its YAML file's bytes."""
    path = METHODOLOGY_DIR / f"{version}.yaml"
    payload = path.read_bytes()
    raw = yaml.safe_load(payload.decode("utf-8"))
    if raw.get("version") != version:
        raise ValueError(f"{path}: declares version {raw.get('version')!r}, expected {version!r}")
    return Methodology(version=version, sha256=hashlib.sha256(payload).hexdigest(), raw=raw)


# ---- the item catalog ------------------------------------------------------------------

def ihai_variables(version: str = DEFAULT_VERSION) -> list[str]:
    return list(load(version).raw["ihai"]["variables"])


def ikn_dimensions(version: str = DEFAULT_VERSION) -> list[str]:
    return list(load(version).raw["ikn"]["dimensions"])


def aspects(version: str = DEFAULT_VERSION) -> list[str]:
    return list(load(version).raw["aspects"])


def ihai_items(version: str = DEFAULT_VERSION) -> list[str]:
    return [f"{v}_{a}" for v in ihai_variables(version) for a in aspects(version)]


def ikn_items(version: str = DEFAULT_VERSION) -> list[str]:
    return [f"{d}_{a}" for d in ikn_dimensions(version) for a in aspects(version)]


def all_items(version: str = DEFAULT_VERSION) -> list[str]:
    """The 45 item codes in catalog order (IHaI then IKN)."""
    return ihai_items(version) + ikn_items(version)


def reverse_items(version: str = DEFAULT_VERSION) -> frozenset[str]:
    return frozenset(load(version).raw["reverse_items"])


def answer_scale(version: str = DEFAULT_VERSION) -> tuple[int, int]:
    """The lowest and highest answer as whole numbers (:attr:`Methodology.scale` is float)."""
    s = load(version).raw["scale"]
    return int(s["min"]), int(s["max"])


def likert_labels(version: str = DEFAULT_VERSION) -> dict[str, int]:
    return {k.casefold(): int(v) for k, v in load(version).raw["likert_labels"].items()}
