"""Scale benchmark: hundreds of backups in one `pulumi up`, ours vs a hand-written baseline (issue 12).

    .venv/bin/python bench/run.py            # full run (1, 32, 128, 256 backups, each the median of 3 runs; ~6 minutes on 2 cores)
    .venv/bin/python bench/run.py --quick    # ~1 minute (1 and 8 backups, short backups)

Drives the real provider host (``python -u -m pulumi.dynamic``) through the engine harness
(tests/harness: a preview pass, then the update, as `pulumi up` does) against the FSx emulator on the
real clock, prints a markdown table, then one verdict line per goal, MET or NOT MET. Progress goes
to stderr, the report to stdout. See BENCHMARKS.md for what each column means and for a committed run.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Optional, Sequence

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import scenarios  # noqa: E402
from bench.scenarios import BASELINE, OURS, LongBackupResult, PreviewResult, UpResult  # noqa: E402

COLUMNS = (
    "provider",
    "backups",
    "D (s)",
    "up wall (s)",
    "preview pass (s)",
    "program (s)",
    "provider share (s)",
    "ratio to 1 backup",
    "DescribeBackups (listings + polls)",
    "poll rounds",
    "worst round - ceil(n/50)",
    "lag median (s)",
    "peak in flight",
    "provider RSS (MB)",
    "provider threads",
    "CPU: provider / harness (s)",
)

# Goals of issue 12 (and those of issue 6 that still stand).
GOAL_RATIO = {128: 1.25, 256: 1.5}  # provider share, N backups vs 1
GOAL_QUICK_RATIO = 1.25  # the largest stack of a reduced run
GOAL_CALLS_FACTOR = 6.0  # DescribeBackups, largest stack vs 1
GOAL_RSS_MB = 200.0
GOAL_COLD_START = 0.5
GOAL_LONG_CALLS = 1000
GOAL_PREVIEW_READS = 2.0
GOAL_PROVIDER_BYTES = 256
GOAL_OUTPUTS_BYTES = 4096
GOAL_TRACKED_OUTPUTS = 0


@dataclass
class BenchConfig:
    sizes: tuple[int, ...] = (1, 32, 128, 256)  # our stacks (distinct ONTAP volumes)
    baseline_sizes: tuple[int, ...] = (1, 32)  # the baseline's: 4 at a time, 256 would take 7 minutes
    duration: float = 6.0  # D: seconds each emulated backup takes
    file_systems: int = 4  # ONTAP file systems the volumes are spread over
    storm_backups: int = 48
    storm_rate: float = 0.7
    storm_seconds: float = 8.0
    cold_starts: int = 5
    preview_targets: int = 32
    preview_file_systems: int = 4
    long_backup_seconds: float = 7200.0
    quick: bool = False
    # Each stack `up` is run this many times, the sizes interleaved (1, 32, ..., 1, 32, ...); a row is
    # the run with the median provider share. A 2-core machine moves one run by +-5 %.
    repeats: int = 3


FULL = BenchConfig()
QUICK = BenchConfig(sizes=(1, 8), baseline_sizes=(1, 8), duration=2.0, storm_backups=8, storm_seconds=2.0,
                    cold_starts=3, preview_targets=8, quick=True, repeats=1)


@dataclass
class Verdict:
    """One goal: ``value`` against ``goal`` (lower is better). ``timing``: a wall-clock figure, which a
    busy machine moves (the smoke test gives those slack); the others are counts."""

    name: str
    value: float
    goal: float
    text: str
    timing: bool = False

    @property
    def met(self) -> bool:
        return self.value <= self.goal

    def line(self) -> str:
        return f"- {'MET' if self.met else 'NOT MET'}: {self.text}"


@dataclass
class Row:
    up: UpResult
    ratio: float
    label: str = ""

    def cells(self) -> list[str]:
        u = self.up
        return [
            u.provider + (f" ({self.label})" if self.label else ""),
            str(u.backups),
            _num(u.duration, 0),
            _num(u.wall, 1),
            _num(u.preview, 1),
            _num(u.program, 1),
            _num(u.provider_share, 1),
            _num(self.ratio, 2),
            f"{u.describe_backups} ({u.listings} + {u.polls})",
            str(len(u.rounds)),
            str(u.worst_round_excess),
            _num(u.lag_median, 2),
            str(u.peak_concurrent),
            _num(u.rss_mb, 0),
            str(u.threads),
            f"{_num(u.provider_cpu, 1)} / {_num(u.harness_cpu, 1)}",
        ]


@dataclass
class Report:
    config: BenchConfig
    rows: list[Row]
    storm: Optional[Row]
    long_backup: LongBackupResult
    previews: dict[str, PreviewResult]
    cold_starts: dict[str, list[float]]
    backup_cold_starts: dict[str, list[float]]
    verdicts: list[Verdict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    machine: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    shares: dict[tuple[str, int], list[float]] = field(default_factory=dict)  # provider share of every run

    def table(self) -> str:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join("---" for _ in COLUMNS) + "|"]
        rows = self.rows + ([self.storm] if self.storm is not None else [])
        lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
        return "\n".join(lines)

    def text(self) -> str:
        parts = [
            "## Machine",
            "",
            *[f"- {k}: {v}" for k, v in self.machine.items()],
            "",
            "## Stacks (real provider host, emulator on the real clock; each `up` = preview pass + update)",
            "",
            self.table(),
            "",
            "## Cold start (spawn -> Check answered, after Configure; median of "
            f"{self.config.cold_starts})",
            "",
            "| provider | first Check of an `up` | first Check of a backup resource |",
            "|---|---|---|",
            *[
                f"| {p} | {_median(self.cold_starts[p])} | {_median(self.backup_cold_starts[p])} |"
                for p in (OURS, BASELINE)
            ],
            "",
            "## Long backup (simulated)",
            "",
            f"| schedule (one {self.long_backup.seconds / 3600:g}-hour backup, fake clock) | DescribeBackups calls "
            "| detection lag (s) |",
            "|---|---|---|",
            f"| ours (BackupWatcher, watcher.poll_interval) | {self.long_backup.ours_calls} | "
            f"{self.long_backup.ours_lag:.1f} |",
            f"| baseline (0.2 s doubling to a 10 s cap) | {self.long_backup.baseline_calls} | "
            f"{self.long_backup.baseline_lag:.1f} |",
            "",
            "## Verdicts",
            "",
            *[v.line() for v in self.verdicts],
        ]
        if self.notes:
            parts += ["", "## Notes", "", *[f"- {n}" for n in self.notes]]
        parts += ["", f"(bench took {self.seconds:.0f} s)"]
        return "\n".join(parts)


def _num(value: float, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}"


def _median(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"{statistics.median(values):.2f} s (all: {', '.join(f'{v:.2f}' for v in values)})"


# ---------------------------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "?"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "pulumi SDK": _version("pulumi"),
        "grpcio": _version("grpcio"),
        "emulator page size": f"{scenarios.BENCH_PAGE_SIZE} (the test suite's default: 3)",
        "load average at start (1/5/15 min)": load,
    }


def _version(dist: str) -> str:
    try:
        from importlib.metadata import version

        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"


def run_bench(config: BenchConfig = FULL, log: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> Report:
    started = time.monotonic()
    machine = machine_info()
    d = config.duration

    def up(provider: str, backups: int, storm: Optional[tuple[float, float]] = None) -> UpResult:
        log(f"up: {provider}, {backups} backup(s), D={d:g}s{' under a throttling storm' if storm else ''} ...")
        t = time.monotonic()
        result = scenarios.run_up(provider, backups, d, config.file_systems, storm=storm)
        log(f"    provider share {result.provider_share:.1f}s, up {result.wall:.1f}s ({time.monotonic() - t:.1f}s "
            f"with set-up), {result.describe_backups} DescribeBackups, RSS {result.rss_mb:.0f} MB")
        return result

    runs: dict[tuple[str, int], list[UpResult]] = {}
    for repeat in range(max(1, config.repeats)):
        if config.repeats > 1:
            log(f"repeat {repeat + 1} of {config.repeats}")
        for provider, sizes in ((OURS, config.sizes), (BASELINE, config.baseline_sizes)):
            for n in sizes:
                runs.setdefault((provider, n), []).append(up(provider, n))
    ups = {key: median_run(results) for key, results in runs.items()}
    storm_up = up(OURS, config.storm_backups, storm=(config.storm_rate, config.storm_seconds))

    cold: dict[str, list[float]] = {}
    backup_cold: dict[str, list[float]] = {}
    previews: dict[str, PreviewResult] = {}
    for provider in (OURS, BASELINE):
        log(f"cold start: {provider}, {config.cold_starts} spawns ...")
        cold[provider] = scenarios.cold_start(ups[(provider, 1)], config.cold_starts)
        backup_cold[provider] = scenarios.cold_start(ups[(provider, 1)], config.cold_starts, backup_check=True)
        log(f"    {', '.join(f'{x:.2f}s' for x in cold[provider])}; backup check "
            f"{', '.join(f'{x:.2f}s' for x in backup_cold[provider])}")
        log(f"preview: {provider}, {config.preview_targets} targets on {config.preview_file_systems} file systems ...")
        previews[provider] = scenarios.run_preview(provider, config.preview_targets, config.preview_file_systems)
    long_backup = scenarios.simulate_long_backup(config.long_backup_seconds)

    rows = [Row(up=u, ratio=u.provider_share / ups[(u.provider, 1)].provider_share) for u in ups.values()]
    storm_row = Row(up=storm_up, ratio=storm_up.provider_share / ups[(OURS, 1)].provider_share,
                    label=f"{config.storm_rate:.0%} throttled for {config.storm_seconds:g} s")
    report = Report(config, rows, storm_row, long_backup, previews, cold, backup_cold, machine=machine,
                    shares={key: [r.provider_share for r in results] for key, results in runs.items()})
    report.verdicts = verdicts(report)
    report.notes = notes(report)
    try:
        report.machine["load average at end (1/5/15 min)"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        pass
    report.seconds = time.monotonic() - started
    return report


def median_run(results: list[UpResult]) -> UpResult:
    """The run with the median provider share (the lower middle one of an even number)."""
    ordered = sorted(results, key=lambda r: r.provider_share)
    return ordered[(len(ordered) - 1) // 2]


def _row(report: Report, provider: str, backups: int) -> Row:
    for row in report.rows:
        if (row.up.provider, row.up.backups) == (provider, backups):
            return row
    raise KeyError((provider, backups))


def verdicts(report: Report) -> list[Verdict]:
    c = report.config
    out: list[Verdict] = []
    one = _row(report, OURS, 1)
    largest = max(c.sizes)
    ratio_goals = {n: g for n, g in GOAL_RATIO.items() if n in c.sizes} or {largest: GOAL_QUICK_RATIO}
    for n, goal in ratio_goals.items():
        row = _row(report, OURS, n)
        base = f"; baseline at {max(c.baseline_sizes)}: {_row(report, BASELINE, max(c.baseline_sizes)).ratio:.2f}"
        out.append(Verdict(
            f"ratio {n}", row.ratio, goal,
            f"provider share of `up`, {n} backups vs 1 (D={c.duration:g}s): {row.up.provider_share:.1f}s vs "
            f"{one.up.provider_share:.1f}s = {row.ratio:.2f}x (goal <= {goal:g}x){base}", timing=True,
        ))
    ours_rows = [r for r in report.rows if r.up.provider == OURS] + ([report.storm] if report.storm else [])
    worst = max(ours_rows, key=lambda r: r.up.worst_round_excess)
    rounds = sum(len(r.up.rounds) for r in ours_rows)
    out.append(Verdict(
        "calls per round", worst.up.worst_round_excess, 0,
        f"DescribeBackups per poll round = ceil(pending/50) on all {rounds} rounds of every ours row: worst "
        f"round {worst.up.worst_round_excess} call(s) over ({worst.up.backups} backups; biggest round "
        f"{max((ids for r in ours_rows for ids, _ in r.up.rounds), default=0)} backups)",
    ))
    big = _row(report, OURS, largest)
    factor = big.up.describe_backups / max(1, one.up.describe_backups)
    out.append(Verdict(
        "calls factor", factor, GOAL_CALLS_FACTOR,
        f"DescribeBackups, {largest} backups vs 1: {big.up.describe_backups} ({big.up.listings} listings + "
        f"{big.up.polls} polls) vs {one.up.describe_backups} = {factor:.2f}x (goal <= {GOAL_CALLS_FACTOR:g}x; "
        f"baseline at {max(c.baseline_sizes)}: {_row(report, BASELINE, max(c.baseline_sizes)).up.describe_backups} "
        f"vs {_row(report, BASELINE, 1).up.describe_backups})",
    ))
    out.append(Verdict(
        "rss", big.up.rss_mb, GOAL_RSS_MB,
        f"provider RSS with {largest} waiting creates: {big.up.rss_mb:.0f} MB peak, {big.up.threads} threads "
        f"(goal <= {GOAL_RSS_MB:g} MB; 1 backup: {one.up.rss_mb:.0f} MB, {one.up.threads} threads)",
    ))
    cs = statistics.median(report.cold_starts[OURS])
    out.append(Verdict(
        "cold start", cs, GOAL_COLD_START,
        f"cold start (spawn -> first Check of an `up` answered), median of {len(report.cold_starts[OURS])}: "
        f"{cs:.2f}s (goal <= {GOAL_COLD_START:g}s; baseline {statistics.median(report.cold_starts[BASELINE]):.2f}s; "
        f"first backup Check {statistics.median(report.backup_cold_starts[OURS]):.2f}s)", timing=True,
    ))
    if report.storm is not None:
        s = report.storm.up
        out.append(Verdict(
            "storm", 0 if s.user_backups == s.backups else 1, 0,
            f"throttling storm: {s.backups} backups, {s.throttled} calls throttled, every `up` step succeeded "
            f"with {s.user_backups} backups (provider share {s.provider_share:.1f}s, {report.storm.ratio:.2f}x one)",
        ))
    lb = report.long_backup
    out.append(Verdict(
        "long backup", lb.ours_calls, GOAL_LONG_CALLS - 1,
        f"{lb.seconds / 3600:g}-hour backup: {lb.ours_calls} DescribeBackups calls (baseline schedule "
        f"{lb.baseline_calls}; goal < {GOAL_LONG_CALLS})",
    ))
    pv = report.previews[OURS]
    out.append(Verdict(
        "preview reads", pv.per_file_system, GOAL_PREVIEW_READS,
        f"preview of {pv.targets} targets on {pv.file_systems} file systems: {pv.describe_calls} read calls "
        f"= {pv.per_file_system:.2f} per file system (goal <= {GOAL_PREVIEW_READS:g})",
    ))
    pb = max(r.up.provider_bytes for r in ours_rows)
    out.append(Verdict("provider bytes", pb, GOAL_PROVIDER_BYTES,
                       f"`__provider`: {pb} bytes (goal <= {GOAL_PROVIDER_BYTES})"))
    ob = max(r.up.max_outputs_bytes for r in ours_rows)
    out.append(Verdict("outputs bytes", ob, GOAL_OUTPUTS_BYTES,
                       f"stored outputs per backup: at most {ob} bytes (goal <= {GOAL_OUTPUTS_BYTES})"))
    tracked = max((r.up.tracked_per_backup for r in ours_rows), default=float("nan"))
    out.append(Verdict(
        "tracked outputs", tracked if tracked == tracked else float("inf"), GOAL_TRACKED_OUTPUTS,
        f"Output tasks each `FsxBackup` leaves in the Pulumi SDK's end-of-program wait (quadratic in them): "
        f"{_num(tracked, 2)} (goal {GOAL_TRACKED_OUTPUTS}; 41 without sdk_tracking.py)",
    ))
    every = report.rows + ([report.storm] if report.storm else [])
    dupes = [r for r in every if r.up.user_backups != r.up.backups]
    out.append(Verdict(
        "duplicates", len(dupes), 0,
        "no duplicate backups: every stack left exactly one backup per resource" if not dupes
        else "duplicates: " + "; ".join(f"{r.up.provider} {r.up.backups}: {r.up.user_backups} backups" for r in dupes),
    ))
    return out


def notes(report: Report) -> list[str]:
    c = report.config
    out = []
    n = max(c.baseline_sizes)
    base = _row(report, BASELINE, n)
    out.append(
        f"baseline, {n} backups vs 1: provider share ratio {base.ratio:.2f} (expected ~{n / 4:g}x: 4-worker "
        f"host, blocking create); peak backups in flight {base.up.peak_concurrent}"
    )
    for row in report.rows:
        u = row.up
        if u.provider == OURS and u.backups > 1:
            out.append(
                f"ours, {u.backups} backups: program {u.program:.1f}s (its last output resolved "
                f"{u.program - u.provider_share:+.1f}s after the provider's share ended), provider share "
                f"{u.provider_share:.1f}s, preview pass {u.preview:.1f}s; CPU: provider {u.provider_cpu:.1f}s, "
                f"harness process (program, engine, emulator) {u.harness_cpu:.1f}s"
            )
    if c.repeats > 1:
        out.append(
            f"each stack row is the median of {c.repeats} runs (sizes interleaved); provider share of every run: "
            + "; ".join(f"{p} {n}: {', '.join(f'{x:.1f}' for x in xs)} s" for (p, n), xs in report.shares.items())
        )
    if c.quick or c.sizes != FULL.sizes:
        out.append(
            f"reduced run (stacks of {', '.join(map(str, c.sizes))}, D={c.duration:g}s): the time goals are stated for "
            "128 and 256 backups; verdicts here are indicative only"
        )
    load = report.machine.get("load average at start (1/5/15 min)", "")
    try:
        if float(load.split()[0]) > 0.5 * (os.cpu_count() or 1):
            out.append(f"the machine was busy when the bench started (load {load}): timings are noisy")
    except (ValueError, IndexError):
        pass
    return out


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="~1 minute version (1 and 8 backups, D=2s)")
    parser.add_argument("--sizes", type=str, help="our stack sizes, comma-separated (default 1,32,128,256)")
    parser.add_argument("--baseline-sizes", type=str, help="the baseline's stack sizes (default 1,32)")
    parser.add_argument("--duration", type=float, help="D, seconds per emulated backup (default 6)")
    parser.add_argument("--storm-backups", type=int, help="backups of the throttled row (default 48)")
    parser.add_argument("--cold-starts", type=int, help="provider spawns for the cold start median (default 5)")
    parser.add_argument("--preview-targets", type=int, help="targets of the preview stack (default 32)")
    parser.add_argument("--repeats", type=int, help="runs of each stack, the median reported (default 3; --quick 1)")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    overrides = {
        "sizes": _sizes(args.sizes), "baseline_sizes": _sizes(args.baseline_sizes), "duration": args.duration,
        "storm_backups": args.storm_backups, "cold_starts": args.cold_starts, "preview_targets": args.preview_targets,
        "repeats": args.repeats,
    }
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    report = run_bench(config)
    text = report.text()
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


def _sizes(text: Optional[str]) -> Optional[tuple[int, ...]]:
    if text is None:
        return None
    sizes = tuple(sorted({int(x) for x in text.split(",")}))
    if 1 not in sizes:
        raise SystemExit("sizes must include 1 (every ratio is to the 1-backup stack)")
    return sizes


if __name__ == "__main__":
    sys.exit(main())
