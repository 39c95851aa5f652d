"""Run the README's test command several times in a row, optionally while CPU-bound processes load
the machine, and print one markdown row per run (docs/testing.md, "Never flaky").

    .venv/bin/python tools/soak.py --runs 3 --hogs 2     # 3 runs beside 2 busy loops
    .venv/bin/python tools/soak.py --runs 3              # 3 idle runs
    .venv/bin/python tools/soak.py --runs 1 --keep out -- --durations=25   # keep the slowest 25
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOG = "while True: pass"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--hogs", type=int, default=0, help="CPU-bound processes to run beside the suite")
    parser.add_argument("--keep", type=Path, help="write each run's full output to DIR/run-N.txt")
    parser.add_argument("pytest_args", nargs="*")
    args = parser.parse_args()
    hogs = [subprocess.Popen([sys.executable, "-c", HOG]) for _ in range(args.hogs)]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args.pytest_args]
    failed = 0
    try:
        print("| run | load | command | wall | result |\n|---|---|---|---|---|", flush=True)
        for run in range(1, args.runs + 1):
            started = time.monotonic()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
            wall = time.monotonic() - started
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                (args.keep / f"run-{run}.txt").write_text(done.stdout + done.stderr)
            summary = next((line.strip("= ") for line in reversed(done.stdout.splitlines())
                            if re.search(r"\d+ (passed|failed)", line)), f"exit {done.returncode}")
            failed += done.returncode != 0
            load = f"{args.hogs} busy loops" if args.hogs else "idle"
            print(f"| {run} | {load} | `python -m pytest` | {wall:.0f} s | {summary} |", flush=True)
            if done.returncode:
                print("\n".join(x for x in done.stdout.splitlines() if x.startswith(("FAILED", "ERROR"))), flush=True)
    finally:
        for hog in hogs:
            hog.kill()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
