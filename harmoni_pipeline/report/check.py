"""The report's own check, run before it is published: blocking for the report only.

Room: three facts about a rendered report — every kecamatan in scope stands in exactly
one map feature that the boundary layer has; the HTML (and each SVG) refers to no
remote resource; the PDF has pages. A failed check stops the report's publication and
names what is wrong; it never touches the marts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

# a URL a browser would fetch: in src/href/url()/@import, or xlink:href. The SVG namespace
# declaration (xmlns="http://www.w3.org/2000/svg") is a name, not a request.
REMOTE = re.compile(r"""(?:src|href|xlink:href|srcset|poster|data|action)\s*=\s*["']?\s*(?:https?:)?//"""
                    r"""|url\(\s*["']?\s*(?:https?:)?//|@import\s+["']?\s*(?:url\()?\s*["']?(?:https?:)?//""",
                    re.IGNORECASE)


@dataclass
class CheckResult:
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        return "ok" if self.passed else "; ".join(self.problems)


def coverage_problems(expected: pd.Series, units: pd.DataFrame, drawn: set[str]) -> list[str]:
    """``expected``: kecamatan codes in scope; ``units``: one row per kecamatan (``kode``,
    ``unit``); ``drawn``: codes of the features on the map."""
    problems = []
    counts = units["kode"].value_counts()
    twice = counts[counts > 1]
    if len(twice):
        problems.append(f"{len(twice)} kecamatan appear more than once in the map data (e.g. {twice.index[0]})")
    missing = sorted(set(expected) - set(units["kode"]))
    if missing:
        problems.append(f"{len(missing)} kecamatan in scope are missing from the map data (e.g. {missing[0]})")
    extra = sorted(set(units["kode"]) - set(expected))
    if extra:
        problems.append(f"{len(extra)} kecamatan outside the scope are in the map data (e.g. {extra[0]})")
    undrawn = sorted(set(units["unit"]) - drawn)
    if undrawn:
        problems.append(f"{len(undrawn)} map feature(s) have no boundary polygon (e.g. {undrawn[0]})")
    return problems


def remote_references(text: str) -> list[str]:
    """Snippets of ``text`` that would make a browser fetch something by URL."""
    return [text[max(m.start() - 20, 0): m.end() + 40] for m in REMOTE.finditer(text)]


def check_report(expected: pd.Series, units: pd.DataFrame, drawn: set[str], html: str, svgs: dict[str, str],
                 pdf_pages: int) -> CheckResult:
    result = CheckResult(coverage_problems(expected, units, drawn))
    for name, text in {"HTML": html, **svgs}.items():
        found = remote_references(text)
        if found:
            result.problems.append(f"{name} refers to a remote resource: {found[0]!r}")
    if pdf_pages < 1:
        result.problems.append("the PDF has no page")
    return result
