"""Data quality: batch expectations run with Great Expectations (GX 1.x), survey
diagnostics, and the audit table of their results. Plain modules; the Dagster asset
checks that run them are in ``checks/``.

- :mod:`.suites` — load the declarative suite files ``checks/suites/*.json``.
- :mod:`.batches` — the frames a suite validates (the candidate table, per-file and
  per-partition summaries, population totals against the reference).
- :mod:`.gx_runner` — run suites in an ephemeral GX context, build Data Docs.
- :mod:`.diagnostics` — non-blocking survey diagnostics (straight-lining, speed,
  Cronbach's alpha, repeated respondents).
- :mod:`.results` — ``audit.validation_results``.
"""
