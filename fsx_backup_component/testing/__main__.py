"""``fsx-backup-emulator`` / ``python -m fsx_backup_component.testing``: run the emulator until
SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from .emulator import FsxEmulator

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fsx-backup-emulator",
        description="Local Amazon FSx backup API emulator (awsJson1_1 over HTTP).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback only)")
    parser.add_argument("--port", type=int, default=5050, help="port, 0 = any free port (default 5050)")
    parser.add_argument("--seed", help="seed file (JSON, or YAML when PyYAML is installed)")
    parser.add_argument("--backup-seconds", type=float, help="emulated backup duration (default 2)")
    parser.add_argument("--copy-seconds", type=float, help="emulated CopyBackup duration (default 2)")
    parser.add_argument("--backup-quota", type=int, help="user-initiated backups per region (default 500)")
    parser.add_argument("--throttle-rate", type=float, default=0.0, help="0..1 ThrottlingException rate")
    parser.add_argument(
        "--internal-error-rate", type=float, default=0.0, help="0..1 InternalServerError rate"
    )
    parser.add_argument(
        "--page-size", type=int, help="items per Describe* page, ID look-ups included (default 3; 0 = the model's cap)"
    )
    parser.add_argument(
        "--token-window-seconds", type=float,
        help="seconds a ClientRequestToken is remembered (default 300; negative = forever)",
    )
    parser.add_argument("--order-seed", type=int, help="seed of the (unspecified) listing order (default 0)")
    return parser


def _configure(args: argparse.Namespace) -> FsxEmulator:
    emulator = FsxEmulator(host=args.host, port=args.port, seed=args.seed)
    # Command-line values win over the seed file's settings.
    if args.backup_seconds is not None:
        emulator.set_backup_seconds(args.backup_seconds)
    if args.copy_seconds is not None:
        emulator.copy_seconds = args.copy_seconds
    if args.backup_quota is not None:
        emulator.backup_quota = args.backup_quota
    if args.page_size is not None:
        emulator.page_size = args.page_size or None
    if args.token_window_seconds is not None:
        emulator.token_window_seconds = None if args.token_window_seconds < 0 else args.token_window_seconds
    if args.order_seed is not None:
        emulator.order_seed = args.order_seed
    emulator.faults.throttle_rate = args.throttle_rate
    emulator.faults.internal_error_rate = args.internal_error_rate
    return emulator


def _announce(emulator: FsxEmulator) -> None:
    print(f"FSx emulator listening on {emulator.endpoint_url}")
    print(f"export AWS_ENDPOINT_URL_FSX={emulator.endpoint_url}")
    if emulator.roles():  # STS answers on the same port; worth saying only when there are roles
        print(f"export AWS_ENDPOINT_URL_STS={emulator.endpoint_url}")
    for kind, ids in emulator.seeded_ids.items():
        for resource_id in ids:
            print(f"seeded {kind[:-1].replace('_', ' ')}: {resource_id}")
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    emulator = _configure(args)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    with emulator:
        _announce(emulator)
        while not stop.wait(0.5):  # short waits keep the main thread responsive to signals
            pass
    print("FSx emulator stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
