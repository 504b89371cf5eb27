"""Data Docs that open offline: one self-contained HTML page per validated suite and an
index, rendered from the validation's outcomes.

Room: the human-readable record of one check run (what each expectation guards, whether
it passed, how many rows failed and which, GX's statistics). GX's own Data Docs load
Bootstrap, jQuery and fonts from CDNs and render unstyled, with empty tables, without a
network; these pages carry their style inline and load nothing (no script, no font, no
image), so an auditor can open them from the check's ``data_docs`` link on any machine.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from pathlib import Path

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;margin:24px;color:#1d2433}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 8px}
.meta{color:#5b6476;margin-bottom:14px}.meta code{color:#1d2433}
table{border-collapse:collapse;width:100%;margin:8px 0 18px}
th,td{border:1px solid #d6dae3;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px}
.passed{background:#dff3e4;color:#17612e}.failed{background:#fbe0e0;color:#8c1d1d}
.warning{background:#fdf1d6;color:#7a5200}
code{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
a{color:#2653c9}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value))


def verdict(outcome) -> str:
    """``passed``, ``failed`` (a blocking expectation) or ``warning`` (a warning-level
    one that failed: reported, never blocking)."""
    if outcome.success:
        return "passed"
    return "failed" if outcome.blocking else "warning"


def _badge(word: str) -> str:
    label = {"warning": "warning, not blocking"}.get(word, word)
    return f'<span class="badge {word}">{_e(label)}</span>'


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>{body}</body></html>\n")


def page_name(suite: str) -> str:
    """The file of a suite's page: ``staging.survey_responses.rows`` → ``staging.survey_responses.rows.html``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", suite) + ".html"


def _counts(outcomes: list) -> dict[str, int]:
    out = {"passed": 0, "failed": 0, "warning": 0}
    for o in outcomes:
        out[verdict(o)] += 1
    return out


def _suite_verdict(outcomes: list) -> str:
    counts = _counts(outcomes)
    return "failed" if counts["failed"] else "warning" if counts["warning"] else "passed"


def suite_page(suite: str, outcomes: list, statistics: dict, *, run_name: str, checked_at: str) -> str:
    rows = []
    order = {"failed": 0, "warning": 1, "passed": 2}
    for o in sorted(outcomes, key=lambda o: order[verdict(o)]):
        detail = o.detail or ("; ".join(filter(None, [
            f"observed {o.observed}" if o.observed is not None else "",
            f"error: {o.error}" if o.error else ""])))
        rows.append(
            f"<tr><td>{_badge(verdict(o))}</td><td><code>{_e(o.expectation)}</code></td><td><code>{_e(o.column)}</code></td>"
            f"<td>{_e(o.guards)}</td><td>{_e(o.severity)}</td>"
            f'<td class="num">{_e(o.unexpected_count if o.unexpected_count is not None else "")}</td>'
            f"<td>{_e('; '.join(o.unexpected_sample))}</td><td>{_e(detail)}</td></tr>")
    stats = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in statistics.items())
    counts = _counts(outcomes)
    body = (
        f"<h1>{_e(suite)} {_badge(_suite_verdict(outcomes))}</h1>"
        f'<div class="meta">run <code>{_e(run_name)}</code> · checked {_e(checked_at)} · '
        f"{counts['passed']} passed, {counts['failed']} failed, {counts['warning']} warning(s) · "
        f'<a href="index.html">all suites of this check</a></div>'
        "<h2>Expectations</h2><table><thead><tr><th>result</th><th>expectation</th><th>column</th>"
        "<th>what it guards</th><th>severity</th><th>unexpected rows</th><th>sample of unexpected values</th>"
        f"<th>detail</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<h2>Statistics</h2><table><tbody>{stats}</tbody></table>"
    )
    return _page(f"{suite} — harmoni Data Docs", body)


def index_page(suites: dict[str, list], *, run_name: str, checked_at: str) -> str:
    rows = []
    for suite, outcomes in suites.items():
        counts = _counts(outcomes)
        rows.append(f'<tr><td><a href="{_e(page_name(suite))}">{_e(suite)}</a></td><td>{_badge(_suite_verdict(outcomes))}</td>'
                    f'<td class="num">{counts["passed"]}</td><td class="num">{counts["failed"]}</td>'
                    f'<td class="num">{counts["warning"]}</td></tr>')
    body = (f"<h1>harmoni Data Docs</h1><div class=\"meta\">run <code>{_e(run_name)}</code> · checked {_e(checked_at)}</div>"
            "<table><thead><tr><th>suite</th><th>result</th><th>passed</th><th>failed</th><th>warnings</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")
    return _page(f"harmoni Data Docs — {run_name}", body)


def write_site(docs_dir: Path, outcomes: Iterable, statistics: dict[str, dict], *, run_name: str,
               checked_at: dt.datetime | None = None) -> tuple[Path, dict[str, Path]]:
    """Write ``index.html`` and one page per suite of ``statistics`` into ``docs_dir``;
    returns the index and ``{suite: page}``."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    when = (checked_at or dt.datetime.now(dt.timezone.utc)).strftime("%Y-%m-%d %H:%M:%S UTC")
    by_suite: dict[str, list] = {suite: [] for suite in statistics}
    for o in outcomes:
        by_suite.setdefault(o.suite, []).append(o)
    pages = {}
    for suite, found in by_suite.items():
        page = docs_dir / page_name(suite)
        page.write_text(suite_page(suite, found, statistics.get(suite, {}), run_name=run_name, checked_at=when),
                        encoding="utf-8")
        pages[suite] = page
    index = docs_dir / "index.html"
    index.write_text(index_page(by_suite, run_name=run_name, checked_at=when), encoding="utf-8")
    return index, pages
