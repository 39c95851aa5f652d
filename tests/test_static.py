"""The package's own static checks, run with the tests so CI keeps them: ruff (lint) and mypy (types)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("target", ["fsx_backup_component", "bench", "examples"])
def test_ruff_is_clean(target: str) -> None:
    done = _run("ruff", "check", target)
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_is_clean_on_the_package() -> None:
    done = _run("mypy", "fsx_backup_component")
    assert done.returncode == 0, done.stdout + done.stderr
