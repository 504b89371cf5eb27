"""Packaging: the top-level ``assets/`` and ``checks/`` folders are installed under the
package (``harmoni_pipeline.assets``, ``harmoni_pipeline.checks``), never as the generic
top-level names ``assets`` and ``checks``; every subpackage is listed in pyproject.toml."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed_and_the_two_folders_are_mapped_under_the_package():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "harmoni_pipeline").rglob("__init__.py")}
    assert set(CONFIG["packages"]) == found | {"harmoni_pipeline.assets", "harmoni_pipeline.checks"}
    assert CONFIG["package-dir"] == {"harmoni_pipeline.assets": "assets", "harmoni_pipeline.checks": "checks"}


def _imports(cwd: Path, pythonpath: str | None = None) -> str:
    """What a fresh interpreter of this venv, started outside the source tree, imports
    (the code location imports every module of the package)."""
    code = (
        "import importlib.util as u, harmoni_pipeline.checks.common as c, harmoni_pipeline.definitions as d\n"
        "from harmoni_pipeline.quality.suites import SUITES_DIR\n"
        "print(u.find_spec('assets'), u.find_spec('checks'), len(list(SUITES_DIR.glob('*.json'))), c.__file__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def test_the_editable_install_imports_the_folders_only_under_the_package(tmp_path):
    out = _imports(tmp_path)
    none_assets, none_checks, suites, common = out.split(" ", 3)
    assert (none_assets, none_checks) == ("None", "None")
    assert int(suites) == len(list((ROOT / "checks" / "suites").glob("*.json"))) > 0
    assert Path(common) == ROOT / "checks" / "common.py"


@pytest.mark.slow
def test_a_built_wheel_holds_them_under_the_package(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                    "--no-build-isolation", "-w", str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True,
                   cwd=tmp_path)
    wheel = next((tmp_path / "dist").glob("harmoni-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "site")
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"harmoni_pipeline"}
    assert "harmoni_pipeline/checks/suites/staging.survey_responses.json" in names
    assert "harmoni_pipeline/checks/diagnostics.yaml" in names and "harmoni_pipeline/assets/marts.py" in names
    out = _imports(tmp_path, pythonpath=str(tmp_path / "site"))
    none_assets, none_checks, suites, common = out.split(" ", 3)
    assert (none_assets, none_checks) == ("None", "None") and int(suites) > 0
    assert Path(common) == tmp_path / "site" / "harmoni_pipeline" / "checks" / "common.py"
