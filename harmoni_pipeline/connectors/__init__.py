"""Connectors: KoboToolbox, Google Sheets and the BPS WebAPI feed the landing zone.

Room: pulling from the sources and writing what they serve as landing files in the
documented formats (data-contracts §3) — one more producer of files, so everything
downstream (listing, dedup, row rules, audit, checks) applies unchanged. Modules:
:mod:`.http` (requests with timeouts, retries, secrets masked), :mod:`.landing` (atomic
landing files, cursors, ``audit.pulls``), one module per source (:mod:`.kobo`,
:mod:`.sheets`, :mod:`.bps`), :mod:`.pull` (what ``harmoni pull`` and the pull assets
call) and :mod:`.cli` (the command's arguments). See ``docs/connectors.md``.
"""
