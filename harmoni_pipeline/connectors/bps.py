"""BPS WebAPI → BPS JSON landing files (data-contracts §3.3).

Room: which ``list/model/data`` requests a pull makes (the variables of
``config/stats_sources.yaml`` for the domain, the period's year and the one before),
checking each body, and landing each as a JSON file in ``stats/YYYY/``.

- **Domain**: ``HARMONI_BPS_DOMAIN``, else the scope's (``35.13`` → ``3513``, ``35`` →
  ``3500``, ``ALL`` → ``0000``). The variables are the ``bps_webapi`` entries of that
  domain (an entry without ``domain`` serves every domain).
- **Placeholders**: an entry marked ``placeholder: true`` holds an id that was never
  checked against BPS; a pull refuses to start while one is among the variables asked,
  naming them (fill in the real ids: ``docs/connectors.md``).
- **Bodies**: ``status`` other than ``OK`` or ``data-availability`` other than
  ``available`` is an error naming the variable and year — no file is written for it;
  the other variables are still pulled.
- **No-op**: a body with the same bytes as the last one landed for its (domain,
  variable, year) writes nothing. A changed body is a new file; its name carries the
  pull's UTC instant (to the millisecond) and its SHA-256's first 8 digits, so among files of one folder the later arrival sorts last (the
  statistics rule "the later file name wins", §3.3).
- **The key** is a path segment of the URL; it is masked in every URL, message and
  record (``…/key/***/``).
"""

from __future__ import annotations

import json
import urllib.parse

from harmoni_pipeline.connectors.http import HttpClient, PullError, redact
from harmoni_pipeline.connectors.landing import Pulled, PullState, sha256, utc_stamp

DEFAULT_URL = "https://webapi.bps.go.id/v1"


def domain_of(scope: str, override: str | None = None) -> str:
    """``HARMONI_BPS_DOMAIN`` when set, else the scope's BPS domain."""
    if override and override.strip():
        return override.strip()
    digits = "".join(ch for ch in scope if ch.isdigit())
    if scope.strip().upper() == "ALL" or not digits:
        return "0000"
    return (digits + "00")[:4]


def variables_for(sources: dict, domain: str) -> list[dict]:
    """The ``bps_webapi`` entries a pull asks for; :class:`PullError` when there are
    none or when any is a placeholder."""
    entries = [e for e in sources.get("bps_webapi", []) if str(e.get("domain", domain)) == domain]
    if not entries:
        raise PullError(f"no bps_webapi variable of stats_sources.yaml for BPS domain {domain}")
    placeholders = [f"var {e['var']} ({e['indikator']})" for e in entries if e.get("placeholder")]
    if placeholders:
        raise PullError(
            f"stats_sources.yaml holds placeholder BPS variable ids for domain {domain}: {', '.join(placeholders)}; "
            "fill in the real ids and remove `placeholder: true` (docs/connectors.md)"
        )
    return entries


def data_url(base_url: str, domain: str, var, th: int, key: str) -> str:
    q = lambda text: urllib.parse.quote(str(text), safe="")  # noqa: E731
    return (f"{base_url.rstrip('/')}/api/list/model/data/lang/ind/domain/{q(domain)}/var/{q(var)}"
            f"/th/{th}/key/{q(key)}/")


def check_body(body: bytes, what: str, var=None) -> int:
    """The number of ``datacontent`` entries of a usable body (of variable ``var``, when
    given); :class:`PullError` naming ``what`` (the variable and year) otherwise."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise PullError(f"BPS {what}: the answer is not JSON") from None
    if not isinstance(data, dict):
        raise PullError(f"BPS {what}: the answer is not a JSON object")
    status = str(data.get("status", ""))
    if status.upper() != "OK":
        message = " ".join(str(data.get("message", "")).split())[:200]
        raise PullError(f"BPS {what}: status {status or 'missing'!r}" + (f" ({message})" if message else ""))
    availability = str(data.get("data-availability", ""))
    if availability != "available":
        raise PullError(f"BPS {what}: data-availability {availability or 'missing'!r} (not published)")
    content = data.get("datacontent")
    if not isinstance(content, dict) or not content:
        raise PullError(f"BPS {what}: no datacontent")
    served = data.get("var")
    if var is not None and isinstance(served, list) and served and isinstance(served[0], dict) \
            and str(served[0].get("val")) != str(var):
        raise PullError(f"BPS {what}: the body is variable {served[0].get('val')!r}")
    return len(content)


def pull_variable(client: HttpClient, state: PullState, *, base_url: str, key: str, domain: str, entry: dict,
                  year: int, arrival_year: str, period: str) -> Pulled:
    """One (variable, year): a new file in ``stats/{arrival_year}/``, or nothing when
    its body did not change since the last one landed. Errors are returned, not raised."""
    var, th = entry["var"], year - 1900
    target = f"{domain}/var{var}/th{th}"
    url = data_url(base_url, domain, var, th, key)
    before = state.cursor("bps", target)
    result = Pulled(source="bps", target=target, url=redact(url, (key,)), period=period,
                    cursor_before=(before or {}).get("sha256"))
    what = f"variable {var} ({entry['indikator']}) of domain {domain}, year {year} (th {th})"
    try:
        body = client.get(url, secrets=(key,))
        records = check_body(body, what, var)
    except PullError as exc:
        result.error, result.cursor_after = str(exc).replace(key, "***") if key else str(exc), result.cursor_before
        return result
    digest = sha256(body)
    result.cursor_after = digest
    if before and before.get("sha256") == digest:
        return result
    name = f"bps_{domain}_var{var}_th{th}_{utc_stamp()}_{digest[:8]}.json"
    after = {"sha256": digest}
    result.path = state.land(f"stats/{arrival_year}", name, body, source="bps", target=target,
                             cursor_before=before, cursor_after=after)
    result.records, result.bytes, result.sha256 = records, len(body), digest
    return result


def pull_bps(client: HttpClient, state: PullState, *, base_url: str, key: str, domain: str, entries: list[dict],
             period: str) -> list[Pulled]:
    """Every variable of ``entries`` (:func:`variables_for`) for the period's year and
    the one before."""
    year = int(period[:4])
    return [
        pull_variable(client, state, base_url=base_url, key=key, domain=domain, entry=entry, year=y,
                      arrival_year=period[:4], period=period)
        for entry in entries
        for y in (year - 1, year)
    ]
