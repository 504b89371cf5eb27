"""Scoring per methodology HM-2026.1 (``docs/methodology.md``): plain modules, no Dagster.

- :mod:`.inputs` — the rows a period uses, read from staging with DuckDB (survey window
  with response dedup, latest FKDM versions, latest statistics).
- :mod:`.population` — population margins and totals per kecamatan (§1.5, §1.8).
- :mod:`.raking` — design weights by iterative proportional fitting, fallbacks, trimming.
- :mod:`.survey` — item → aspect → variable scores, weighted kecamatan scores, n, n_eff, status.
- :mod:`.ihai` — IHaI, dimensions, aspects, confidence interval, gap flag (§2).
- :mod:`.events` — the IKN event pillar from FKDM reports, red alerts (§3 E).
- :mod:`.context` — the IKN context pillar from statistics (§3 C).
- :mod:`.ikn` — the IKN index, bands, kerawanan, statuses (§3).
- :mod:`.rollup` — population-weighted kabupaten and province roll-ups.
- :mod:`.integration` — the IHaI × IKN quadrant and responsibilities (§4).
- :mod:`.marts` — mart schemas (data-contracts §4) and the per-period builders.
"""
