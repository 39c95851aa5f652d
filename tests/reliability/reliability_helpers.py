"""Helpers of the reliability campaign (tests/reliability): stacks, targets, invariants, fault and
kill-point tooling, and the figures ledger that docs/guarantees.md is written from.

Everything here wraps the engine harness (tests/harness) and the emulator from the outside; neither
is modified.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import pulumi

from fsx_backup_component import FsxBackup
from fsx_backup_component.testing import FsxEmulator
from tests.e2e.e2e_helpers import (  # noqa: F401 - shared with the e2e tests, re-exported here
    WRITE_OPERATIONS,
    live_backups,
    make_target,
    user_backups,
    wait_for,
    write_calls,
)
from tests.e2e.e2e_helpers import backup_program as single_program  # noqa: F401
from tests.harness.records import iter_strings

BACKUP_TYPE = "pulumi-python:dynamic/fsx-backup:Backup"
COMPONENT_TYPE = "fsx-backup:index:FsxBackup"
CHANGING_RPCS = frozenset({"Create", "Update", "Delete"})

# Emulated backup duration for the campaign: short (the suite must stay within minutes on a loaded
# 2-core machine) but long enough that a create really waits (Lustre: PENDING -> CREATING ->
# TRANSFERRING -> AVAILABLE, several polls).
BACKUP_SECONDS = 1.0

# Harness bounds: nothing in this campaign may hang the suite.
RPC_TIMEOUT = 60.0
RUN_TIMEOUT = 90.0


# ---------------------------------------------------------------------------------------------
# targets and programs


TARGET_KINDS = ("lustre", "windows", "openzfs", "ontap-volume")


def target_id(target: Mapping[str, str]) -> str:
    return target.get("volume_id") or target["file_system_id"]


@dataclass
class BackupSpec:
    """One FsxBackup of a test stack."""

    name: str
    target: dict[str, str]
    kwargs: dict[str, Any] = field(default_factory=dict)


def stack_program(specs: Sequence[BackupSpec], **common: Any) -> Callable[[], None]:
    """A program declaring every spec (``common`` kwargs apply to all; a spec's own win)."""

    def program() -> None:
        for spec in specs:
            kwargs: dict[str, Any] = {**spec.target, **common, **spec.kwargs}
            backup = FsxBackup(spec.name, **kwargs)
            pulumi.export(f"{spec.name}_backup_id", backup.backup_id)

    return program


# ---------------------------------------------------------------------------------------------
# emulator views and the campaign's invariants


def backup_target(backup: Mapping[str, Any]) -> str:
    volume = backup.get("Volume") or {}
    return str(volume.get("VolumeId") or backup["FileSystem"]["FileSystemId"])


def backups_per_target(emu: FsxEmulator) -> Counter[str]:
    """User-initiated backups per file system / volume, DELETED ones included."""
    return Counter(backup_target(b) for b in user_backups(emu, include_deleted=True))


def state_backup_ids(h: Any) -> dict[str, str]:
    """Backup resource URN -> backup ID, for every backup resource in the stack state (pending
    deletes of replaced resources included: they still own a backup)."""
    ids = {u: r.id for u, r in h.state.resources.items() if r.type == BACKUP_TYPE}
    ids.update({f"{r.urn}#replaced": r.id for r in h.state.pending_deletes if r.type == BACKUP_TYPE})
    return ids


def assert_no_duplicates(emu: FsxEmulator, targets: Iterable[str], expected: int = 1) -> None:
    """Exactly ``expected`` user-initiated backups per target, DELETED ones included."""
    counts = backups_per_target(emu)
    wrong = {t: counts.get(t, 0) for t in targets if counts.get(t, 0) != expected}
    assert not wrong, f"backups per target (DELETED included) should be {expected}: {wrong}"


def assert_no_orphans(h: Any, emu: FsxEmulator) -> None:
    """Every live backup in the emulator is in the stack state and vice versa."""
    live = {b["BackupId"] for b in live_backups(emu)}
    in_state = set(state_backup_ids(h).values())
    assert live == in_state, (
        f"orphans in FSx (not in state): {sorted(live - in_state)}; "
        f"in state but gone from FSx: {sorted(in_state - live)}"
    )


def changing_rpcs(result: Any) -> Counter[str]:
    return Counter(r.method for r in result.rpc_log if r.method in CHANGING_RPCS)


def assert_converged(h: Any, program: Any = None) -> Any:
    """A further `up` succeeds and makes no create/update/delete."""
    again = h.up(program)
    assert again.ok, again.error_text()
    assert not changing_rpcs(again), f"a further `up` still changed things: {changing_rpcs(again)}"
    return again


def wait_emulator_idle(emu: FsxEmulator, quiet: float = 0.3, timeout: float = 60.0) -> None:
    """Wait until no request is being served and none has arrived for ``quiet`` seconds (a request cut
    by a provider kill is still served on the emulator's own thread; let it land before judging).
    The in-flight count is the condition; the quiet time only covers bytes not yet read off the socket."""

    def quiet_now() -> bool:
        if emu.requests_in_flight:
            return False
        log = emu.call_log
        return not log or time.time() - log[-1][0] >= quiet

    wait_for(quiet_now, "the emulator to be idle", timeout=timeout)


# ---------------------------------------------------------------------------------------------
# fault tooling


class FaultTally:
    """Counts the faults the emulator injects (wraps ``emu.faults.pick`` on the instance)."""

    def __init__(self, emu: FsxEmulator) -> None:
        self.injected: Counter[str] = Counter()
        self.by_operation: Counter[tuple[str, str]] = Counter()  # (error code, operation)
        self._lock = threading.Lock()
        original = emu.faults.pick

        def pick(operation: str) -> Any:
            error = original(operation)
            if error is not None:
                with self._lock:
                    self.injected[error.code] += 1
                    self.by_operation[(error.code, operation)] += 1
            return error

        emu.faults.pick = pick  # type: ignore[method-assign]


class LostAnswers:
    """Write requests that FSx *served* but whose answer never reached the client: the emulator
    handles the request, then answers InternalServerError / 500 instead (a response lost to a
    network or front-end failure). botocore retries; only the request token prevents a second
    backup. ``first_per_subject``: the first served answer of each (operation, subject) is lost,
    later ones with probability ``rate``. Install before the emulator starts (the server binds
    ``dispatch`` then)."""

    def __init__(
        self,
        emu: FsxEmulator,
        operations: Iterable[str],
        *,
        rate: float = 0.0,
        seed: int = 0,
        first_per_subject: bool = False,
    ) -> None:
        if emu._server is not None:  # noqa: SLF001 - a test-side guard
            raise RuntimeError("install LostAnswers before starting the emulator")
        self.rate = rate
        self.operations = frozenset(operations)
        self.first_per_subject = first_per_subject
        self.lost: Counter[str] = Counter()
        self._seen: set[tuple[str, str]] = set()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        original = emu.dispatch

        def dispatch(operation: Optional[str], region: str, body: bytes) -> tuple[int, dict[str, Any]]:
            status, payload = original(operation, region, body)
            if status == 200 and operation in self.operations:
                if self._lose(operation, body):
                    return 500, {"__type": "InternalServerError", "Message": "answer lost (injected by the test)"}
            return status, payload

        emu.dispatch = dispatch  # type: ignore[method-assign]

    def _lose(self, operation: str, body: bytes) -> bool:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        subject = str(
            params.get("FileSystemId") or params.get("VolumeId") or params.get("BackupId")
            or params.get("ResourceARN") or params.get("SourceBackupId") or ""
        )
        with self._lock:
            first = (operation, subject) not in self._seen
            self._seen.add((operation, subject))
            lose = (self.first_per_subject and first) or self._rng.random() < self.rate
            if lose:
                self.lost[operation] += 1
            return lose


@dataclass(frozen=True)
class Answer:
    operation: str
    status: int
    code: str  # "" for a success
    subject: str


class AnswerLog:
    """Records what the emulator answered to every request (it only logs requests itself), and
    runs one-shot actions just before a request of a given operation is handled (``before``).
    Install before the emulator starts (the server binds ``dispatch`` then)."""

    def __init__(self, emu: FsxEmulator) -> None:
        if emu._server is not None:  # noqa: SLF001 - a test-side guard
            raise RuntimeError("install AnswerLog before starting the emulator")
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._before: list[tuple[str, Callable[[], None]]] = []
        original = emu.dispatch

        def dispatch(operation: Optional[str], region: str, body: bytes) -> tuple[int, dict[str, Any]]:
            with self._lock:
                due = [a for op, a in self._before if op == operation]
                self._before = [(op, a) for op, a in self._before if op != operation]
            for action in due:
                action()
            status, payload = original(operation, region, body)
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                params = {}
            subject = str(params.get("FileSystemId") or params.get("VolumeId") or params.get("BackupId") or "")
            with self._lock:
                self.answers.append(Answer(str(operation), status, str(payload.get("__type", "")) if status != 200 else "", subject))
            return status, payload

        emu.dispatch = dispatch  # type: ignore[method-assign]

    def before(self, operation: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, just before the next ``operation`` request is handled."""
        with self._lock:
            self._before.append((operation, action))

    def of(self, operation: str) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.operation == operation]


# ---------------------------------------------------------------------------------------------
# kill points


@dataclass(frozen=True)
class KillPoint:
    """Where the provider process is SIGKILLed: at the ``count``-th ``operation`` request the
    emulator receives (served, answer never seen), or once a ``method`` RPC has been in flight for
    ``seconds``."""

    phase: str
    operation: str = ""
    count: int = 0
    method: str = ""
    seconds: float = 0.0

    def arm(self, h: Any) -> None:
        if self.operation:
            h.kill_on_emulator_call(self.operation, self.count)
        else:
            h.kill_when_in_flight(self.method, self.seconds)

    def describe(self) -> str:
        if self.operation:
            return f"{self.phase}: {self.operation} #{self.count}"
        return f"{self.phase}: {self.method} RPC in flight {self.seconds:.2f}s"


def provider_kills(h: Any, run_number: int) -> int:
    return len(h.events.find(kind="provider", name="killed", run=run_number))


# ---------------------------------------------------------------------------------------------
# credential scans


def decoded_provider_blobs(values: Iterable[str]) -> list[bytes]:
    """``__provider`` values are base64 (dill pickles); decode them so a pickled secret cannot hide."""
    blobs = []
    for value in values:
        try:
            blobs.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return blobs


def provider_values(h: Any) -> list[str]:
    values: list[str] = []
    for record in h.rpc_log:
        for part in ("response", "request"):
            data = getattr(record, part) or {}
            for key in ("properties", "olds", "news", "inputs"):
                values += list(iter_strings((data.get(key) or {}).get("__provider", "")))
    for res in list(h.state.resources.values()) + list(h.state.pending_deletes):
        values += list(iter_strings(res.outputs.get("__provider", "")))
        values += list(iter_strings(res.inputs.get("__provider", "")))
    return [v for v in values if v]


def everything_the_engine_saw(h: Any) -> dict[str, list[str | bytes]]:
    """Every place a credential could surface, by where it is: gRPC responses (raw and decoded) and
    errors, requests (state flows back to the provider), run outputs and errors, state, ``__provider``
    decoded, progress/log messages to the engine, and the provider processes' stdout/stderr."""
    hay: dict[str, list[str | bytes]] = {
        "grpc responses": [],
        "grpc errors": [],
        "grpc requests": [],
        "outputs": [],
        "state": [],
        "__provider (decoded)": [],
        "engine log messages": [],
        "provider stdout/stderr": [],
    }
    for record in h.rpc_log:
        hay["grpc responses"].append(record.raw_response)
        hay["grpc responses"] += list(iter_strings(record.response or {}))
        hay["grpc errors"].append(record.error or "")
        hay["grpc requests"] += list(iter_strings(record.request))
    for run in h.runs:
        hay["outputs"] += list(iter_strings(run.outputs)) + list(iter_strings(run.stack_outputs))
        hay["outputs"] += list(iter_strings(run.errors)) + list(iter_strings(run.warnings))
        hay["outputs"].append(run.program_error or "")
    for res in list(h.state.resources.values()) + list(h.state.pending_deletes):
        hay["state"] += list(iter_strings(res.inputs)) + list(iter_strings(res.outputs))
    hay["__provider (decoded)"] += decoded_provider_blobs(provider_values(h))
    hay["engine log messages"] += [r.message for r in h.logs]
    for host in h.providers:
        hay["provider stdout/stderr"] += [host.stdout, host.stderr]
    return hay


def find_needles(haystacks: Mapping[str, list[str | bytes]], needles: Mapping[str, str]) -> list[str]:
    """``where: needle-name`` for every needle found (values are never printed)."""
    found = []
    for where, items in haystacks.items():
        for item in items:
            text = item.decode("latin-1") if isinstance(item, bytes) else item
            for name, needle in needles.items():
                if needle and needle in text:
                    found.append(f"{where}: {name}")
    return sorted(set(found))


# ---------------------------------------------------------------------------------------------
# the figures ledger (docs/guarantees.md is written from it)

SUMMARY_ENV = "FSX_GUARANTEES_SUMMARY"


def _merge(old: Any, new: Any) -> Any:
    """Numbers add up, lists extend, dicts merge key by key; anything else is replaced."""
    if isinstance(new, bool) or old is None:
        return new
    if isinstance(new, (int, float)) and isinstance(old, (int, float)) and not isinstance(old, bool):
        return old + new
    if isinstance(new, list) and isinstance(old, list):
        return old + new
    if isinstance(new, dict) and isinstance(old, dict):
        return {k: _merge(old.get(k), new.get(k)) if k in new else old[k] for k in {**old, **new}}
    return new


class Ledger:
    """What each guarantee test tried and observed. Written as JSON at the end of the session to
    ``$FSX_GUARANTEES_SUMMARY`` when that variable is set (see docs/guarantees.md)."""

    def __init__(self) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def record(self, guarantee: str, **figures: Any) -> None:
        with self._lock:
            entry = self.entries.setdefault(guarantee, {})
            for key, value in figures.items():
                entry[key] = _merge(entry.get(key), value)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.entries, indent=2, sort_keys=True, default=str) + "\n")

    def write_if_requested(self) -> Optional[Path]:
        target = os.environ.get(SUMMARY_ENV)
        if not target:
            return None
        path = Path(target)
        self.write(path)
        return path
