"""The repository documents itself: no tracked file refers to material outside it.

The project was started beside a folder of shared material (the reference specification,
reference data) that a clone does not have, so a link there is a dead link for every
reader. The interfaces are `docs/data-contracts.md`, the scoring rules
`docs/methodology.md`.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = "sha" + "red"  # spelled in two parts so that this file does not match itself
# the sibling folder (relative or absolute), a path to one of its files, or its reference set by name
OUTSIDE = re.compile(
    r"(?:\.\./|/work/)" + SHARED + r"\b"
    + r"|\b" + SHARED + r"/(?:data-contracts|methodology|style|README)\.md"
    + r"|\b" + SHARED + r"/(?:reference|seed|hooks)/"
    + r"|\b" + SHARED + r" reference (?:set|geo)"
)


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode("utf-8").split("\0") if name]


def test_no_tracked_file_refers_outside_the_repository():
    files = tracked_files()
    assert any(f.name == "data-contracts.md" for f in files) and len(files) > 100
    found = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary (XLSX fixtures), or deleted in the work tree
        for number, line in enumerate(text.splitlines(), start=1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    assert not found, "references outside the repository:\n" + "\n".join(found)


def test_the_pattern_catches_what_it_must():
    for line in ("see `../" + SHARED + "/data-contracts.md` §3", "(``/work/" + SHARED + "/methodology.md``)",
                 "scoring methodology (``" + SHARED + "/methodology.md``)", "the " + SHARED + " reference set"):
        assert OUTSIDE.search(line), line
    for line in ("shared by every parser", "the shared contract between parsers", "docs/methodology.md §1.5"):
        assert not OUTSIDE.search(line), line


def test_the_docs_that_replace_them_exist_and_keep_the_contract_names():
    contracts = (ROOT / "docs" / "data-contracts.md").read_text(encoding="utf-8")
    for name in ("HARMONI_LANDING_DIR", "HARMONI_WAREHOUSE_DIR", "HARMONI_SCOPE", "HARMONI_PII_KEY", "HARMONI_ENV",
                 "harmoni run --period YYYY-MM", "harmoni sample --out DIR", "harmoni demo",
                 "audit.source_files", "audit.rejected_rows", "audit.publications", "duplicate_of",
                 "missing_field", "empty_response", "jumlah_penduduk", "pct_desa_poskamling_aktif",
                 "marts.harmoni_kewaspadaan", "alasan_null", "X03_AKS", "KN3_PER"):
        assert name in contracts, name
    from harmoni_pipeline.methodology import all_items
    from harmoni_pipeline.registry import catalog_tables

    items = set(all_items())  # documented as the catalog of §5 (`Xnn_PER` …), not one by one
    for table, schema in catalog_tables().items():  # every table and column harmoni writes is documented
        assert f"`{table}`" in contracts, table
        for column in schema.names:
            assert column in contracts or column in items, (table, column)
    methodology = (ROOT / "docs" / "methodology.md").read_text(encoding="utf-8")
    for section in ("### 1.4 Survey window", "### 1.5 Design weights (raking)", "### 1.7 Sample size",
                    "## 2. IHaI", "### E — event pillar", "## 4. Integration", "## 5. What each status turns NULL",
                    "## 6. Worked examples", "refined 2026-12"):
        assert section in methodology, section
