"""``harmoni sample``: a realistic, deterministic, synthetic landing zone.

Room: the package entry point. :func:`generate_landing_zone` writes the survey exports
(Google Forms, KoboToolbox, canonical), FKDM reports, statistics tables and the
responsibility table of data-contracts §3 for a scope and a range of months, with a
realistic share of planted defects, and returns a :class:`SampleSummary` (files, rows,
planted rules and personal values, the synthetic population used).

Modules: ``context`` (scope, units, profiles, random streams), ``population``
(synthetic kecamatan population), ``people`` (fictitious personal data), ``survey``,
``fkdm``, ``stats`` (the three sources), ``defects`` (what is planted, which rule it
breaks), ``batch`` (column container), ``writer`` (bytes and bookkeeping), ``landing``
(the orchestration and README).
"""

from harmoni_pipeline.sample.landing import generate_landing_zone
from harmoni_pipeline.sample.writer import SampleSummary

__all__ = ["SampleSummary", "generate_landing_zone"]
