"""The colours of the report's maps: one colour per band of the methodology.

Room: which colour stands for which category (IHaI band, risk level, quadrant) and for
"tidak cukup data", read in band order from the methodology object so that a label and
its colour always come from the same place. Colours are ColorBrewer-like, readable in
grey print, and "tidak cukup data" is a hatched grey that no band uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from harmoni_pipeline.methodology import Methodology
from harmoni_pipeline.scoring.integration import QUADRANTS

NO_DATA_LABEL = "Tidak cukup data"
NO_DATA_FILL = "#d9d9d9"
NO_DATA_HATCH = "#8c8c8c"
ALERT_COLOUR = "#b2182b"

# top band first: IHaI high = harmonious (green) ... low (red)
IHAI_COLOURS = ("#1a9850", "#fee08b", "#d73027")
# risk: the top band is the highest risk (red) ... low (green)
RISK_COLOURS = ("#d7301f", "#fdae61", "#a6d96a")
# quadrants in the order of integration.QUADRANTS (harmonis-aman ... kurang-harmonis-rawan)
QUADRANT_COLOURS = ("#1a9850", "#fdae61", "#abd9e9", "#b2182b")
# the order a reader scans them: most urgent first
QUADRANT_PRIORITY = ("kurang-harmonis-rawan", "harmonis-rawan", "kurang-harmonis-aman", "harmonis-aman")


@dataclass(frozen=True)
class Theme:
    """One map's categories: ``labels`` in legend order with their ``colours``."""

    key: str
    title: str
    labels: tuple[str, ...]
    colours: tuple[str, ...]

    def colour(self, label) -> str:
        """The fill of a category; anything else (NULL) is "tidak cukup data"."""
        return dict(zip(self.labels, self.colours)).get(label, NO_DATA_FILL)


def _paired(labels: tuple[str, ...], colours: tuple[str, ...], what: str) -> tuple[str, ...]:
    if len(labels) > len(colours):
        raise ValueError(f"{what}: {len(labels)} bands but only {len(colours)} colours")
    return colours[: len(labels)]


def themes(methodology: Methodology) -> dict[str, Theme]:
    ihai = methodology.ihai_bands.labels
    risk = methodology.risk_bands.labels
    quadrant_colour = dict(zip(QUADRANTS, QUADRANT_COLOURS))
    return {
        "ihai": Theme("ihai", "Kategori IHaI", ihai, _paired(ihai, IHAI_COLOURS, "IHaI")),
        "kerawanan": Theme("kerawanan", "Tingkat kerawanan (IKN)", risk, _paired(risk, RISK_COLOURS, "risk")),
        "kuadran": Theme("kuadran", "Kuadran IHaI × IKN", QUADRANT_PRIORITY,
                         tuple(quadrant_colour[q] for q in QUADRANT_PRIORITY)),
    }
