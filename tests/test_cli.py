"""The `harmoni` command line as a user meets it: `--version`, help that says what each
command does and how a month is written, and the development-key notice printed once,
only by the commands that pseudonymise personal data. Every call runs the installed
entry point in a subprocess with a clean environment."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from harmoni_pipeline.cli import DEV_KEY_NOTICE, PSEUDONYMISING_COMMANDS, build_parser

HARMONI = Path(sys.executable).parent / "harmoni"
FIXTURES = Path(__file__).parent / "fixtures"
KEY_NAME = "HARMONI_PII_KEY"


def harmoni(*args: str, tmp_path: Path, key: str | None = None, **extra_env) -> subprocess.CompletedProcess:
    env = {
        "PATH": str(Path(sys.executable).parent),
        "HOME": str(tmp_path),
        "DAGSTER_HOME": str(tmp_path / "dh"),
        "HARMONI_LANDING_DIR": str(tmp_path / "landing"),
        "HARMONI_WAREHOUSE_DIR": str(tmp_path / "wh"),
        "GX_ANALYTICS_ENABLED": "false",
        **extra_env,
    }
    if key is not None:
        env[KEY_NAME] = key
    return subprocess.run([str(HARMONI), *args], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)


def test_version_names_package_and_methodology(tmp_path):
    proc = harmoni("--version", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"harmoni {version('harmoni')} (methodology HM-2026.1)"
    assert proc.stderr == ""


def test_every_command_has_a_description_and_months_say_their_format():
    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]  # argparse keeps subparsers here
    assert set(sub.choices) == {"sample", "run", "backfill", "demo", "validate", "status", "catalog", "report", "pull", "form",
                                "worker", "trace", "notify", "alerts"}
    for name, command in sub.choices.items():
        assert command.description and len(command.description) > 60, name
        for action in command._actions:
            if action.dest in ("period", "start", "end"):
                assert action.metavar == "YYYY-MM", (name, action.dest)


def test_run_help_shows_the_description_and_the_month_format(tmp_path):
    proc = harmoni("run", "--help", tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    assert "Materialise one month or a range of months" in text
    for option in ("--period YYYY-MM", "--from YYYY-MM", "--to YYYY-MM"):
        assert option in text
    assert "harmoni run --from 2025-01 --to 2025-12" in text
    assert KEY_NAME not in proc.stderr


def test_a_month_in_another_format_is_refused_by_the_parser(tmp_path):
    proc = harmoni("run", "--period", "12/2025", tmp_path=tmp_path)
    assert proc.returncode == 2
    assert "argument --period: expected a month YYYY-MM (e.g. 2025-12), got '12/2025'" in proc.stderr
    assert KEY_NAME not in proc.stderr  # refused before anything runs
    proc = harmoni("backfill", "--from", "2025-1", "--to", "2025-12", tmp_path=tmp_path)
    assert proc.returncode == 2 and "argument --from: expected a month YYYY-MM" in proc.stderr


def test_dev_key_notice_once_for_a_command_that_pseudonymises(tmp_path):
    """`validate` pseudonymises the file's personal columns: one notice, in the CLI's
    words, and no Python warning from the settings besides it."""
    proc = harmoni("validate", str(FIXTURES / "survey" / "gf_id_dayfirst.csv"), "--period", "2025-12",
                   tmp_path=tmp_path)
    assert proc.returncode == 1, proc.stderr  # the fixture plants rejected rows
    assert proc.stderr.count(KEY_NAME) == 1
    assert proc.stderr.strip() == DEV_KEY_NOTICE
    # `run` stops early here (no month given) but has said it once, before the reason
    proc = harmoni("run", tmp_path=tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.count(KEY_NAME) == 1 and proc.stderr.startswith(DEV_KEY_NOTICE)
    assert "give --period YYYY-MM" in proc.stderr


@pytest.mark.parametrize("args", [("catalog",), ("status",), ("sample", "--out", "out", "--from", "2025-12", "--to", "2025-12")])
def test_no_dev_key_notice_where_nothing_is_pseudonymised(tmp_path, args):
    assert args[0] not in PSEUDONYMISING_COMMANDS
    proc = harmoni(*args, tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert KEY_NAME not in proc.stderr and "development key" not in proc.stderr


def test_no_notice_with_a_key_and_none_in_production(tmp_path):
    proc = harmoni("validate", str(FIXTURES / "survey" / "gf_gmt.csv"), tmp_path=tmp_path, key="a-real-key")
    assert KEY_NAME not in proc.stderr
    # production refuses to start without a key: the reason, not a notice about a fallback
    proc = harmoni("run", "--period", "2025-12", tmp_path=tmp_path, HARMONI_ENV="production")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "harmoni: HARMONI_ENV=production requires HARMONI_PII_KEY (the key for pseudonymising personal data)"
