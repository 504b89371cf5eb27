"""The auditor's trail: from one published score to the respondents, FKDM report
versions, statistics rows, landing files and runs behind it.

Room: the provenance tables ``audit.score_*`` (:mod:`.schemas`, built with the marts by
:mod:`.build` and published in the same period snapshot), reading them back for one
kecamatan (:mod:`.query`), and ``harmoni trace`` (:mod:`.render`, :mod:`.command`).
Scoring itself is :mod:`harmoni_pipeline.scoring`'s; nothing here recomputes a score.
"""
