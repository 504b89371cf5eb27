"""The report as one self-contained HTML page (Jinja2 templates shipped in the package).

Room: the Jinja2 environment (templates in ``templates/``, autoescaping, the Indonesian
number filters of :mod:`.numbers`) and turning a context into the page. CSS is inlined
from ``templates/report.css``; maps and charts are inline SVG: the page asks no other
host for anything.
"""

from __future__ import annotations

from functools import lru_cache

import jinja2
from markupsafe import Markup

from harmoni_pipeline.report import numbers

TEMPLATE = "laporan.html.j2"


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harmoni_pipeline.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(angka=numbers.angka, bulat=numbers.bulat, persen=numbers.persen, selisih=numbers.selisih,
                       svg=Markup)
    return env


def render_html(context: dict) -> str:
    env = environment()
    css = env.loader.get_source(env, "report.css")[0]
    return env.get_template(TEMPLATE).render(css=Markup(css), **context)
