"""A column batch of generated rows: numpy arrays and pyarrow string arrays of one length.

Room: the tiny container the survey and FKDM generators pass between drawing, planting
defects and rendering, with vectorised ``take`` and ``concat`` (no per-row Python)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class Batch:
    def __init__(self, cols: dict):
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"batch columns differ in length: { {k: len(v) for k, v in cols.items()} }")
        self.cols = dict(cols)

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0

    def __getitem__(self, name: str):
        return self.cols[name]

    def __setitem__(self, name: str, value) -> None:
        if self.cols and len(value) != len(self):
            raise ValueError(f"column {name!r} has {len(value)} rows, batch has {len(self)}")
        self.cols[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self.cols

    def take(self, idx) -> "Batch":
        idx = np.asarray(idx, dtype=np.int64)
        out = {}
        for k, v in self.cols.items():
            if isinstance(v, (pa.Array, pa.ChunkedArray)):
                out[k] = pc.take(v, pa.array(idx)) if len(idx) else v.slice(0, 0)
            else:
                out[k] = v[idx]
        return Batch(out)

    @staticmethod
    def concat(batches: list["Batch"]) -> "Batch":
        batches = [b for b in batches if b is not None and len(b.cols)]
        if not batches:
            return Batch({})
        if len(batches) == 1:
            return batches[0]
        keys = list(batches[0].cols)
        out = {}
        for k in keys:
            parts = [b.cols[k] for b in batches]
            if isinstance(parts[0], (pa.Array, pa.ChunkedArray)):
                chunks = [p.combine_chunks() if isinstance(p, pa.ChunkedArray) else p for p in parts]
                out[k] = pa.concat_arrays([c.cast(chunks[0].type) for c in chunks])
            else:
                out[k] = np.concatenate(parts)
        return Batch(out)
