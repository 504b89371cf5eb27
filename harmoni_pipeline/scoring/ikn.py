"""IKN per kecamatan, methodology §3: pillars S, E, C, the floored weighted geometric
mean, category, kerawanan with the red-alert override, status, and the NULLs of §5.

Room: combining the pillars; each pillar is computed by its own module (S by
:mod:`.survey`, E by :mod:`.events`, C by :mod:`.context`). The HM-2026.1 IKN is not
the official Kemendagri IKN figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.survey import OK, IndexScores

NO_POPULATION, MISSING_CONTEXT = "no_population", "missing_context"


def ikn_kecamatan(survey: IndexScores, events: pd.DataFrame, context: pd.DataFrame, methodology: Methodology) -> pd.DataFrame:
    """One row per kecamatan: ``n_responden, n_laporan, pilar_survei, pilar_peristiwa,
    pilar_konteks, e1, e2, e3, ikn, kategori, kerawanan, tingkat_kerawanan, alert_merah,
    status``."""
    codes = survey.codes
    out = pd.DataFrame(index=codes)
    out["n_responden"] = survey.n.astype(np.int64)
    events = events.reindex(codes)
    out["n_laporan"] = events["n_laporan"].astype("int64")
    s_ok = survey.ok
    out["pilar_survei"] = np.where(s_ok, survey.variable_score.mean(axis=1), np.nan)
    out["pilar_peristiwa"] = events["pilar_peristiwa"].astype("float64")
    out["pilar_konteks"] = context.reindex(codes)["pilar_konteks"].astype("float64")
    for col in ("e1", "e2", "e3"):
        out[col] = events[col].astype("float64")

    index = methodology.ikn["index"]
    floor, exp = float(index["floor"]), index["exponents"]
    S, E, C = (out[c].clip(lower=floor) for c in ("pilar_survei", "pilar_peristiwa", "pilar_konteks"))
    out["ikn"] = S ** float(exp["S"]) * E ** float(exp["E"]) * C ** float(exp["C"])  # NaN if any pillar is
    out["kategori"] = methodology.ikn_bands.classify(out["ikn"])
    out["kerawanan"] = 100.0 - out["ikn"]
    alert = events["alert_merah"].fillna(False).astype(bool)
    out["alert_merah"] = alert
    risk = methodology.risk_bands.classify(out["kerawanan"])
    highest = methodology.risk_bands.labels[0]
    out["tingkat_kerawanan"] = risk.where(~alert, highest)

    status = np.where(
        ~s_ok, survey.status,
        np.where(out["pilar_peristiwa"].isna(), NO_POPULATION, np.where(out["pilar_konteks"].isna(), MISSING_CONTEXT, OK)),
    )
    out["status"] = pd.array(status, dtype="string")
    out.index.name = "kode_kecamatan"
    return out.reset_index()
