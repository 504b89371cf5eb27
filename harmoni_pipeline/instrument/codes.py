"""Respondent code lists: ``pendidikan`` (highest schooling completed) and ``pekerjaan``
(main activity), BPS-style categories simplified for a short survey.

Room: the two fixed lists (code → label) the forms offer, and turning a Google Forms
answer label back into its code. A KoboToolbox export already carries the code (the
choice ``name``). The canonical layout keeps its values as given (free text), so files
that carry other spellings are read exactly as before.
"""

from __future__ import annotations

import pandas as pd

PENDIDIKAN = {
    "tidak_sekolah": "Tidak/belum pernah sekolah",
    "tidak_tamat_sd": "Tidak tamat SD/sederajat",
    "sd": "SD/MI/sederajat",
    "smp": "SMP/MTs/sederajat",
    "sma": "SMA/SMK/MA/sederajat",
    "diploma": "Diploma I/II/III",
    "s1": "Diploma IV/S1",
    "s2_s3": "S2/S3",
}
PEKERJAAN = {
    "tidak_bekerja": "Tidak bekerja/sedang mencari kerja",
    "pelajar": "Pelajar/mahasiswa",
    "mengurus_rumah_tangga": "Mengurus rumah tangga",
    "pertanian": "Petani/pekebun/peternak/nelayan",
    "buruh_karyawan": "Buruh/karyawan/pegawai swasta",
    "pns_tni_polri": "PNS/TNI/Polri/pegawai BUMN/BUMD",
    "wiraswasta": "Wiraswasta/pedagang",
    "pekerja_bebas": "Pekerja bebas/informal lainnya",
    "pensiunan": "Pensiunan",
    "lainnya": "Lainnya",
}
CODE_LISTS = {"pendidikan": PENDIDIKAN, "pekerjaan": PEKERJAAN}


def label_to_code(values: pd.Series, field: str) -> pd.Series:
    """Google Forms answers of ``field``: a label of its list (any letter case, spaces
    collapsed) becomes its code; a code stays; any other text is kept as given."""
    codes = CODE_LISTS[field]
    lookup = {" ".join(label.split()).casefold(): code for code, label in codes.items()}
    lookup.update({code: code for code in codes})
    keys = values.astype("string").str.split().str.join(" ").str.casefold()
    return keys.map(lookup).astype("string").fillna(values.astype("string"))
