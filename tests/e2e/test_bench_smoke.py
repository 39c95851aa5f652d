"""Smoke test of the scale benchmark (bench/run.py): it runs end to end in quick mode with tiny
backups and produces a complete table. Structural only: timing goals are judged by the benchmark on
a quiet machine (BENCHMARKS.md), never in a test."""

from __future__ import annotations

import math

import pytest

from bench import run


def test_quick_bench_prints_a_complete_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = run.main(
        ["--quick", "--backups", "8", "--duration", "1", "--calls-duration", "1", "--cold-starts", "1",
         "--preview-targets", "8"]
    )
    assert code == 0
    out = capsys.readouterr().out

    table = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    assert header == list(run.COLUMNS)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table[1:] if line.count("|") > 5]
    stack_rows = [r for r in rows if r[0] in (run.OURS, run.BASELINE)]
    assert {(r[0], r[1]) for r in stack_rows} == {("ours", "1"), ("ours", "8"), ("baseline", "1"), ("baseline", "8")}
    for r in stack_rows:
        assert len(r) == len(run.COLUMNS), r
    ours_ratio = float(next(r for r in stack_rows if r[:2] == ["ours", "8"])[run.COLUMNS.index("ratio to 1 backup")])
    assert math.isfinite(ours_ratio) and ours_ratio > 0

    assert "Long backup" in out and "baseline (0.2 s doubling" in out
    verdicts = [line for line in out.splitlines() if line.startswith(("- MET:", "- NOT MET:"))]
    assert len(verdicts) == 9, verdicts
