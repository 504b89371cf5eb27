"""The report as an A4 PDF: the same HTML laid out by WeasyPrint (print CSS in the page).

Room: HTML → PDF bytes and its page count. WeasyPrint needs Debian's pango (the
Makefile's ``system-deps`` installs it when missing) and no network: the page has no
remote resource, and a fetcher that refuses every URL makes sure of it.
"""

from __future__ import annotations


class RemoteResourceError(RuntimeError):
    """The page asked for a resource by URL while being laid out."""


def _no_fetch(url: str, *args, **kwargs):
    if url.startswith("data:"):
        import weasyprint

        return weasyprint.default_url_fetcher(url, *args, **kwargs)
    raise RemoteResourceError(f"the report must not load {url}")


def render_pdf(html: str) -> tuple[bytes, int]:
    """The PDF's bytes and its number of pages (from the layout)."""
    import weasyprint

    document = weasyprint.HTML(string=html, url_fetcher=_no_fetch).render()
    return document.write_pdf(), len(document.pages)
