"""How much one landing file may hold: the bounds that keep a hostile or odd file from
exhausting memory or time.

Room: the limits themselves (values and defaults) as one immutable object that settings
build from the environment (:mod:`harmoni_pipeline.settings`) and that ingestion passes
down to the readers and parsers. Nothing here reads the environment or a file.

- ``xlsx_max_uncompressed_bytes``: the sum of the sizes a workbook's zip declares for
  its members (and the size of the file itself);
- ``xlsx_max_columns`` / ``xlsx_max_rows`` / ``xlsx_max_cells``: the rectangle from A1 to
  the farthest cell of a sheet that holds a value (the area the XLSX reader allocates);
- ``text_max_chars``: the longest value a free-text or identifier column may store.
"""

from __future__ import annotations

from dataclasses import dataclass

MB = 2**20


@dataclass(frozen=True)
class InputLimits:
    xlsx_max_uncompressed_bytes: int = 500 * MB
    xlsx_max_columns: int = 200
    xlsx_max_rows: int = 2_000_000
    xlsx_max_cells: int = 50_000_000
    text_max_chars: int = 2_000

    def __post_init__(self):
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive whole number, got {value!r}")


DEFAULT_LIMITS = InputLimits()
