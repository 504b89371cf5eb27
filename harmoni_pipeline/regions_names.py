"""Region names as people write them: normalisation and the keys a name is looked up by
(prefix words and BPS numbers taken off, spaces removed) — no fuzzy matching.

Room: the name rules of :mod:`harmoni_pipeline.regions` (``docs/ingestion.md``, *Regions*).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc`\u00b4]")
_NON_ALNUM = re.compile(r"[\W_]+")
_NAME_PREFIXES = frozenset({"kec", "kecamatan", "desa", "kel", "kelurahan"})
_KELURAHAN_WORDS = frozenset({"kel", "kelurahan"})
_BPS_NUMBER = re.compile(r"\d{1,4}")
_KAB_WORDS = frozenset({"kab", "kabupaten"})
_ADM_WORDS = frozenset({"adm", "administrasi"})



def normalise_name(value: Any) -> str:
    """The comparison form of a region name: NFKC, lower case, apostrophes dropped, every
    run of other punctuation or whitespace one space, trimmed (``"Remba'an"`` ->
    ``rembaan``, ``"Pulau-Pulau  Kur"`` -> ``pulau pulau kur``)."""
    s = unicodedata.normalize("NFKC", str(value)).lower()
    s = _APOSTROPHES.sub("", s)
    return _NON_ALNUM.sub(" ", s).strip()


def name_keys(value: Any) -> tuple[list[str], str | None]:
    """Keys to try for a kecamatan/desa name, most literal first, and a kind hint.

    The first key is the whole normalised name; each further key drops one more leading
    ``kec``/``kecamatan``/``desa``/``kel``/``kelurahan`` word or BPS number. The hint is
    ``'kelurahan'`` or ``'desa'`` when such a word said so (used to split a desa from a
    kelurahan of the same name)."""
    key = normalise_name(value)
    keys = [key] if key else []
    hint: str | None = None
    tokens = key.split()
    while len(tokens) > 1 and (tokens[0] in _NAME_PREFIXES or _BPS_NUMBER.fullmatch(tokens[0])):
        word = tokens.pop(0)
        if word in _KELURAHAN_WORDS:
            hint = "kelurahan"
        elif word == "desa":
            hint = "desa"
        keys.append(" ".join(tokens))
    return keys, hint


def _compact(key: str) -> str:
    """The spaceless index key of a normalised name (``'#kota anyar'`` form: marked so it
    never equals a spaced key). Tried only after every spaced key found nothing, so
    ``Kota Anyar`` finds ``Kotaanyar`` while ``Lubuk Pakam I,II`` and ``Lubuk Pakam III``
    (whose compact keys coincide) still find themselves."""
    return "#" + key.replace(" ", "")


def _with_compact(keys: list[str]) -> list[str]:
    out = list(keys)
    for key in keys:
        c = _compact(key)
        if c not in out:
            out.append(c)
    return out


def _kab_name_key(value: Any) -> tuple[str | None, str]:
    """(type, base) of a kabupaten/kota name: type ``'kabupaten'`` (``Kab.``/``Kabupaten``),
    ``'kota'`` or None; ``Adm.``/``Administrasi`` after the type is ignored."""
    tokens = normalise_name(value).split()
    kind: str | None = None
    if len(tokens) > 1 and tokens[0] in _KAB_WORDS:
        kind, tokens = "kabupaten", tokens[1:]
    elif len(tokens) > 1 and tokens[0] == "kota":
        kind, tokens = "kota", tokens[1:]
    if kind is not None:
        while len(tokens) > 1 and tokens[0] in _ADM_WORDS:
            tokens = tokens[1:]
    return kind, " ".join(tokens)
