"""``generate_landing_zone``: one call that writes a whole synthetic landing zone.

Room: the order of the parts (population → survey → FKDM → statistics → reference table
→ README), the defaults that depend on the scope, and the ``README.txt`` that tells a
reader the data are synthetic. Each part lives in its own module; this one only wires
them together and returns the :class:`~harmoni_pipeline.sample.writer.SampleSummary`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa

from harmoni_pipeline.regions import Regions
from harmoni_pipeline.sample import fkdm, population, stats, survey
from harmoni_pipeline.sample.context import SampleContext
from harmoni_pipeline.sample.writer import LandingWriter, SampleSummary

#: share of kecamatan left out of the responsibility table on purpose (at least one)
UNASSIGNED_SHARE = 0.002

README = """\
HARMONI — sampel zona pendaratan (landing zone) SINTETIS
=========================================================

Semua data di folder ini dibuat oleh `harmoni sample` (seed {seed}, cakupan {scope},
periode {start} s.d. {end}). Tidak ada satu pun baris yang berasal dari survei, laporan
FKDM atau publikasi BPS yang sebenarnya; nama, nomor HP, e-mail dan NIK adalah rekaan
dan tidak menunjuk orang mana pun.

- Kode dan nama wilayah: Kepmendagri No 300.2.2-2138 Tahun 2025 (data referensi proyek).
- Penduduk per kecamatan: SINTETIS — total penduduk kabupaten/kota per jenis kelamin
  (Kemendagri 2025) dibagi ke kecamatan dengan proporsi acak (Dirichlet) dan ke kelompok
  umur dengan piramida penduduk Indonesia yang diberi gangguan acak. Kolom `sumber`:
  "{source}". BUKAN data BPS.
- Indikator konteks (kemiskinan, TPT, konflik, poskamling), tabel "Dalam Angka" dan JSON
  WebAPI: angka sintetis dalam format publikasi BPS.
- Cacat data sengaja ditanam (kolom kosong, nilai di luar skala, umur 15/104, wilayah
  tak dikenal / di luar cakupan / ambigu, tanggal mustahil, duplikat, respons kosong, ...)
  untuk menguji aturan penolakan baris (data-contracts §3.4).

Synthetic sample landing zone. Kecamatan population is synthesised from real
kabupaten totals (Kemendagri 2025) and is not BPS data; every other value is synthetic.

Layout
  survey/YYYY-MM/   Google Forms CSV (ekspor kumulatif), KoboToolbox XLSX/CSV, CSV kanonik
  fkdm/YYYY-MM/     laporan FKDM (CSV dengan kode_desa, XLSX rekap dengan nama wilayah)
  stats/YYYY/       CSV panjang, JSON BPS WebAPI, XLSX "Dalam Angka"
  reference/penanggung_jawab.csv   jabatan penanggung jawab per kecamatan (beberapa sengaja kosong)
"""


def _penanggung_jawab(ctx: SampleContext, writer: LandingWriter) -> None:
    rng = ctx.rng("penanggung-jawab")
    n = ctx.n_kec
    left_out = np.zeros(n, dtype=bool)
    n_out = 1 if n < 10 else max(2, int(round(UNASSIGNED_SHARE * n)))
    left_out[rng.choice(n, min(n_out, n - 1) if n > 1 else 0, replace=False)] = True
    camat = rng.uniform(size=n) < 0.5
    names = ctx.kec_name.astype(str)
    positions = np.where(camat, np.char.add("Camat ", names), np.char.add("Kasi Trantib Kec. ", names))
    keep = ~left_out
    writer.csv(
        "reference/penanggung_jawab.csv",
        ["kode_kecamatan", "penanggung_jawab"],
        [pa.array(ctx.kec_code[keep].astype(str)), pa.array(positions[keep])],
        kind="reference/penanggung_jawab",
    )


def generate_landing_zone(
    out: Path,
    *,
    start: str = "2025-01",
    end: str = "2025-12",
    seed: int = 0,
    scope: str = "35.13",
    responses: int | None = None,
    reports: int | None = None,
) -> SampleSummary:
    """Write a realistic, deterministic landing zone under ``out`` (data-contracts §3).

    ``responses``/``reports`` are totals over the whole range: unique valid survey
    responses (defect rows and cumulative re-exports come on top) and distinct FKDM
    reports. Defaults: about 60 responses and 1.5 reports per kecamatan and month for a
    kabupaten scope (a few kecamatan deliberately stay under 30 respondents a year);
    wider scopes are capped at 200,000 responses and 60,000 reports. The same arguments
    give byte-identical files. Existing files under ``out`` with the same names are
    overwritten; others are left alone.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = SampleContext(Regions.load(), scope, start, end, seed)
    writer = LandingWriter(out)
    pop = population.synthesise(ctx)
    responses_frame = survey.write_survey(ctx, writer, responses)
    n_reports = fkdm.write_fkdm(ctx, writer, reports, pop.total)
    stats.write_stats(ctx, writer, pop)
    _penanggung_jawab(ctx, writer)
    writer.text(
        "README.txt",
        README.format(seed=ctx.seed, scope=ctx.scope, start=ctx.periods[0], end=ctx.periods[-1],
                      source=population.SOURCE),  # fmt: skip
    )
    return writer.summary(
        scope=ctx.scope,
        seed=ctx.seed,
        periods=list(ctx.periods),
        population=pop.frame(),
        responses=responses_frame,
        reports=n_reports,
    )
