"""Fictitious but realistic Indonesian personal data, drawn column-wise.

Room: names (East-Javanese/Madurese flavoured first names and second names by sex),
e-mail addresses derived from them, ``08xx`` mobile numbers in the spellings people type,
16-digit NIKs built like real ones (kecamatan code, birth date with +40 on the day for
women, sequence) and uuid4 strings. Everything is vectorised with numpy/pyarrow: no
Python loop runs per person. These values exist so that tests can prove that no personal
value reaches the warehouse; they describe nobody.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

MALE_FIRST = [
    "Ahmad", "Muhammad", "Moh.", "Abdul", "Agus", "Budi", "Bambang", "Slamet", "Sugeng", "Joko",
    "Eko", "Dwi", "Hadi", "Hasan", "Imam", "Rudi", "Andi", "Arif", "Fajar", "Rizki",
    "Dimas", "Yusuf", "Fauzi", "Syaiful", "Hendra", "Wahyu", "Teguh", "Supriyadi", "Suparman", "Samsul",
    "Sholeh", "Ilham", "Taufik", "Zainal", "Mukhlis", "Ridwan", "Rahmat", "Bagus", "Gilang", "Reza",
    "Aditya", "Yoga", "Heru", "Sutrisno", "Sunarto", "Mulyono", "Kusnadi", "Ainur", "Holil", "Marzuki",
    "Subandi", "Fathur", "Lukman", "Hariyanto", "Nur", "Achmad", "Mochammad", "Fikri", "Bayu", "Ferdi",
]  # fmt: skip
FEMALE_FIRST = [
    "Siti", "Nur", "Sri", "Dewi", "Ani", "Rina", "Lestari", "Wulan", "Putri", "Ayu",
    "Fitri", "Rahayu", "Indah", "Yuni", "Nurul", "Lailatul", "Khoirun", "Dwi", "Tri", "Eka",
    "Maya", "Novita", "Anisa", "Aisyah", "Fatimah", "Zahra", "Umi", "Hartini", "Suwarni", "Sulastri",
    "Endang", "Wahyuni", "Ratna", "Diah", "Mega", "Intan", "Aulia", "Nadia", "Salsabila", "Laila",
    "Mariyam", "Halimah", "Rohmah", "Hosniyah", "Mutmainnah", "Nafisah", "Ika", "Septi", "Yulia", "Rini",
]  # fmt: skip
MALE_SECOND = [
    "Santoso", "Wibowo", "Prasetyo", "Hidayat", "Setiawan", "Kurniawan", "Saputra", "Rahman", "Hakim", "Syahputra",
    "Firmansyah", "Nugroho", "Susanto", "Purnomo", "Hariyanto", "Gunawan", "Wijaya", "Arifin", "Ansori", "Mansur",
    "Zainuddin", "Mahmud", "Efendi", "Ismail", "Ibrahim", "Yulianto", "Hermawan", "Suryadi", "Basuki", "Hamid",
    "Fadli", "Maulana", "Ramadhan", "Syafi'i", "Hasyim", "Anwar", "Kholil", "Sya'roni", "Fauzan", "Ghozali",
]  # fmt: skip
FEMALE_SECOND = [
    "Rahmawati", "Lestari", "Handayani", "Anggraini", "Safitri", "Maulida", "Fauziah", "Kholifah", "Munawaroh", "Rofiqoh",
    "Sholihah", "Hasanah", "Wulandari", "Puspitasari", "Kurniasari", "Susanti", "Yuliana", "Hidayah", "Zulaikha", "Mufidah",
    "Ningsih", "Pratiwi", "Aminah", "Fadilah", "Khotimah", "Rahmah", "Sari", "Utami", "Astuti", "Mardiyah",
]  # fmt: skip
EMAIL_DOMAINS = ["gmail.com", "yahoo.co.id", "yahoo.com", "ymail.com", "outlook.com", "gmail.co.id"]
_EMAIL_DOMAIN_P = [0.78, 0.08, 0.06, 0.02, 0.03, 0.03]
# Indonesian mobile prefixes after the leading 0 (Telkomsel, Indosat, XL, Tri, Smartfren)
PHONE_PREFIXES = ["811", "812", "813", "821", "822", "823", "852", "853", "851", "856", "857", "858",
                  "815", "816", "817", "818", "819", "859", "877", "878", "838", "831", "895", "896",
                  "897", "898", "899", "881", "882", "888"]  # fmt: skip

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _strings(values: list[str]) -> pa.Array:
    return pa.array(values, type=pa.string())


def pad(numbers: np.ndarray, width: int) -> pa.Array:
    """Zero-padded decimal strings."""
    return pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()), width=width, padding="0")


def join(*parts, sep: str = "") -> pa.Array:
    """Element-wise concatenation of arrays and Python strings (null if any part is null)."""
    return pc.binary_join_element_wise(*parts, sep)


def draw_names(rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(first index, second index, full name) per person; indexes refer to the lists of
    the person's sex. Always two words: single-word names (common in Java) would make
    planted values that also occur inside ordinary words, useless for leak tests."""
    n = len(female)
    first_m = rng.integers(0, len(MALE_FIRST), n)
    first_f = rng.integers(0, len(FEMALE_FIRST), n)
    second_m = rng.integers(0, len(MALE_SECOND), n)
    second_f = rng.integers(0, len(FEMALE_SECOND), n)
    first = np.where(female, first_f + len(MALE_FIRST), first_m)
    second = np.where(female, second_f + len(MALE_SECOND), second_m)
    firsts = _strings(MALE_FIRST + FEMALE_FIRST)
    seconds = _strings(MALE_SECOND + FEMALE_SECOND)
    f = pc.take(firsts, pa.array(first))
    s = pc.take(seconds, pa.array(second))
    return first, second, join(f, " ", s)


def draw_emails(rng: np.random.Generator, first: np.ndarray, second: np.ndarray, birth_year: np.ndarray) -> pa.Array:
    n = len(first)
    firsts = pc.utf8_lower(pc.replace_substring_regex(_strings(MALE_FIRST + FEMALE_FIRST), r"[^A-Za-z]", ""))
    seconds = pc.utf8_lower(pc.replace_substring_regex(_strings(MALE_SECOND + FEMALE_SECOND), r"[^A-Za-z]", ""))
    f = pc.take(firsts, pa.array(first))
    s = pc.take(seconds, pa.array(np.maximum(second, 0)))
    s = pc.if_else(pa.array(second < 0), "", s)
    seps = pc.take(_strings([".", "", "_", "."]), pa.array(rng.integers(0, 4, n)))
    style = rng.uniform(size=n)
    yy = pad(np.asarray(birth_year) % 100, 2)
    rnd = pc.cast(pa.array(rng.integers(1, 999, n)), pa.string())
    suffix = pc.if_else(pa.array(style < 0.45), yy, pc.if_else(pa.array(style < 0.75), rnd, ""))
    domain = pc.take(_strings(EMAIL_DOMAINS), pa.array(rng.choice(len(EMAIL_DOMAINS), n, p=_EMAIL_DOMAIN_P)))
    local = join(f, seps, s, suffix)
    local = pc.replace_substring_regex(local, r"[._]$", "")
    return join(local, "@", domain)


def draw_phones(rng: np.random.Generator, n: int) -> pa.Array:
    """Mobile numbers as typed: ``081234567890``, ``0812-3456-7890``, ``+62 812 3456 7890``…"""
    prefix = pc.take(_strings(PHONE_PREFIXES), pa.array(rng.integers(0, len(PHONE_PREFIXES), n)))
    length = rng.choice([7, 8, 9], n, p=[0.25, 0.5, 0.25])
    body = rng.integers(0, 10**9, n) // (10 ** (9 - length))
    body_s = pad(body, 1)
    body_s = pc.utf8_lpad(body_s, width=7, padding="0")
    head = pc.utf8_slice_codeunits(body_s, 0, 4)
    tail = pc.utf8_slice_codeunits(body_s, 4)
    style = rng.choice(5, n, p=[0.55, 0.2, 0.1, 0.1, 0.05])
    plain = join("0", prefix, body_s)
    dashed = join("0", prefix, "-", head, "-", tail)
    intl = join("+62", prefix, body_s)
    intl_sp = join("+62 ", prefix, " ", head, " ", tail)
    spaced = join("0", prefix, " ", head, " ", tail)
    out = plain
    for k, arr in ((1, dashed), (2, intl), (3, spaced), (4, intl_sp)):
        out = pc.if_else(pa.array(style == k), arr, out)
    return out


def draw_niks(
    rng: np.random.Generator, kec_digits: pa.Array, female: np.ndarray, birth: np.ndarray
) -> pa.Array:
    """NIK = 6-digit kecamatan code + DDMMYY of birth (women: day + 40) + 4-digit sequence.
    ``birth`` is numpy ``datetime64[D]``."""
    n = len(female)
    years = birth.astype("datetime64[Y]")
    months = birth.astype("datetime64[M]")
    day = (birth - months).astype(np.int64) + 1 + np.where(female, 40, 0)
    month = (months - years).astype(np.int64) + 1
    yy = years.astype(np.int64) + 1970
    seq = rng.integers(1, 2500, n)
    return join(kec_digits, pad(day, 2), pad(month, 2), pad(yy % 100, 2), pad(seq, 4))


def draw_uuids(rng: np.random.Generator, n: int) -> pa.Array:
    """uuid4 strings (version and variant bits set), without a Python loop."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    nibbles = np.empty((n, 32), dtype=np.uint8)
    nibbles[:, 0::2] = raw >> 4
    nibbles[:, 1::2] = raw & 0x0F
    chars = _HEX[nibbles]
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for a, b, c in ((0, 8, 0), (9, 13, 8), (14, 18, 12), (19, 23, 16), (24, 36, 20)):
        out[:, a:b] = chars[:, c : c + (b - a)]
    return pa.array(out.reshape(-1).view("S36").astype(str) if n else np.array([], dtype=str), type=pa.string())
