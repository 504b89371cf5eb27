"""The item catalog of the active methodology: item codes, index membership, scales.

Room: read-only views of the methodology YAML that parsers and the sample generator
need (which columns are items, which are reversed). Scoring constants are read by the
scoring modules from the same file through :mod:`harmoni_pipeline.methodology`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml

METHODOLOGY_DIR = Path(__file__).parent / "config"
DEFAULT_VERSION = "HM-2026.1"


@lru_cache(maxsize=None)
def load_methodology(version: str = DEFAULT_VERSION) -> dict:
    path = METHODOLOGY_DIR / f"{version}.yaml"
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if data.get("version") != version:
        raise ValueError(f"{path}: declares version {data.get('version')!r}, expected {version!r}")
    return data


def ihai_variables(version: str = DEFAULT_VERSION) -> list[str]:
    return list(load_methodology(version)["ihai"]["variables"])


def ikn_dimensions(version: str = DEFAULT_VERSION) -> list[str]:
    return list(load_methodology(version)["ikn"]["dimensions"])


def aspects(version: str = DEFAULT_VERSION) -> list[str]:
    return list(load_methodology(version)["aspects"])


def ihai_items(version: str = DEFAULT_VERSION) -> list[str]:
    return [f"{v}_{a}" for v in ihai_variables(version) for a in aspects(version)]


def ikn_items(version: str = DEFAULT_VERSION) -> list[str]:
    return [f"{d}_{a}" for d in ikn_dimensions(version) for a in aspects(version)]


def all_items(version: str = DEFAULT_VERSION) -> list[str]:
    """The 45 item codes in catalog order (IHaI then IKN)."""
    return ihai_items(version) + ikn_items(version)


def reverse_items(version: str = DEFAULT_VERSION) -> frozenset[str]:
    return frozenset(load_methodology(version)["reverse_items"])


def scale(version: str = DEFAULT_VERSION) -> tuple[int, int]:
    s = load_methodology(version)["scale"]
    return int(s["min"]), int(s["max"])


def likert_labels(version: str = DEFAULT_VERSION) -> dict[str, int]:
    return {k.casefold(): int(v) for k, v in load_methodology(version)["likert_labels"].items()}
