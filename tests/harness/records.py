"""What a harness run leaves behind: the event log, the RPC log, state, and per-run results."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Optional


@dataclass
class Event:
    """One thing that happened, in the order it happened (``seq``), with both clocks: ``mono`` to
    compare with other harness events, ``wall`` (time.time) to compare with the emulator's call_log.

    kinds: ``rpc`` (name = gRPC method, phase start/end), ``op`` (name = create/update/replace/
    delete/same/read..., phase start/end, or ``plan`` in a preview, which performs nothing; detail:
    changed keys), ``hook`` (name = hook name, detail:
    hook type), ``provider`` (name = started/configured/killed/stopped), ``warning``.
    """

    seq: int
    mono: float
    wall: float
    run: int
    kind: str
    name: str
    phase: str
    urn: str
    detail: dict[str, Any] = field(default_factory=dict)


class EventLog:
    """Thread-safe, append-only, shared by all runs of a harness."""

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)

    def add(self, run: int, kind: str, name: str, phase: str = "", urn: str = "", **detail: Any) -> Event:
        with self._lock:
            event = Event(next(self._seq), time.monotonic(), time.time(), run, kind, name, phase, urn, detail)
            self._events.append(event)
            return event

    def all(self) -> list[Event]:
        with self._lock:
            return list(self._events)

    def find(
        self,
        kind: Optional[str] = None,
        name: Optional[str] = None,
        phase: Optional[str] = None,
        urn: Optional[str] = None,
        run: Optional[int] = None,
    ) -> list[Event]:
        return [
            e
            for e in self.all()
            if (kind is None or e.kind == kind)
            and (name is None or e.name == name)
            and (phase is None or e.phase == phase)
            and (urn is None or e.urn == urn or e.urn.endswith("::" + urn))
            and (run is None or e.run == run)
        ]

    def first(self, **criteria: Any) -> Event:
        found = self.find(**criteria)
        if not found:
            raise AssertionError(f"no event matching {criteria}")
        return found[0]


@dataclass
class RpcRecord:
    """One gRPC call to the provider: request/response as JSON-like dicts (``MessageToDict``, so
    secrets and unknowns appear exactly as on the wire), the raw response bytes (for scans), and the
    error text when it failed (the provider's exception message is in it)."""

    seq: int
    run: int
    method: str
    urn: str
    request: dict[str, Any]
    started: float
    response: Optional[dict[str, Any]] = None
    raw_response: bytes = b""
    error: Optional[str] = None
    code: Optional[str] = None
    ended: Optional[float] = None
    interrupted: bool = False

    @property
    def duration(self) -> Optional[float]:
        return None if self.ended is None else self.ended - self.started


@dataclass
class CheckFailure:
    property: str
    reason: str


@dataclass
class ResourceState:
    """A resource in the harness's state (what a checkpoint holds).

    ``inputs`` and ``outputs`` are in wire form (tests/harness/properties.py): a secret is stored as
    a secret wrapper exactly where the engine's secret rule puts one (a checkpoint encrypts those
    values), everything else is plain. ``properties.plain(...)`` strips the wrappers."""

    urn: str
    type: str
    name: str
    custom: bool
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    dependencies: list[str] = field(default_factory=list)
    hooks: dict[str, list[str]] = field(default_factory=dict)
    retain_on_delete: bool = False
    delete_before_replace: bool = False
    additional_secret_outputs: list[str] = field(default_factory=list)
    custom_timeouts: dict[str, float] = field(default_factory=dict)  # create/update/delete/read, seconds
    external: bool = False  # read with `.get()`: never deleted, only forgotten

    @property
    def dynamic(self) -> bool:
        return self.custom and self.type.startswith("pulumi-python:dynamic")

    @property
    def secret_keys(self) -> set[str]:
        """Top-level keys whose stored input or output value is a secret."""
        from .properties import top_level_secret_keys

        return top_level_secret_keys(self.inputs) | top_level_secret_keys(self.outputs)


@dataclass
class PendingOperation:
    """An operation the engine journaled as started but never saw finish (provider killed)."""

    urn: str
    type: str
    operation: str  # creating | updating | deleting
    inputs: dict[str, Any]
    run: int


@dataclass
class StackState:
    resources: dict[str, ResourceState] = field(default_factory=dict)
    pending_deletes: list[ResourceState] = field(default_factory=list)  # replaced, not yet deleted
    pending_operations: dict[str, PendingOperation] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)  # stack outputs, wire form (secrets wrapped)

    def by_name(self, name: str, type_: Optional[str] = None) -> ResourceState:
        found = [
            r for r in self.resources.values() if r.name == name and (type_ is None or r.type == type_)
        ]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r} (type {type_}) in state")
        return found[0]

    def of_type(self, type_prefix: str) -> list[ResourceState]:
        return [r for r in self.resources.values() if r.type.startswith(type_prefix)]


@dataclass
class RunResult:
    """The outcome of one preview / up / refresh / destroy.

    ``outputs`` / ``stack_outputs`` hold plain values (secrets unwrapped); the stored state keeps
    their secretness (``Harness.state``)."""

    kind: str
    number: int
    preview: bool
    ops: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    check_failures: dict[str, list[CheckFailure]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # registered outputs by URN
    stack_outputs: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    program_error: Optional[str] = None
    rpc_log: list[RpcRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    started: float = 0.0
    ended: float = 0.0
    # `up` only: the preview pass `pulumi up` runs first (None with skip_preview=True).
    preview_result: Optional["RunResult"] = None

    @property
    def ok(self) -> bool:
        return not self.errors and not self.check_failures and self.program_error is None

    @property
    def duration(self) -> float:
        return self.ended - self.started

    def rpcs(self, method: Optional[str] = None, urn: Optional[str] = None) -> list[RpcRecord]:
        return [
            r
            for r in self.rpc_log
            if (method is None or r.method == method) and (urn is None or r.urn == urn)
        ]

    def methods(self) -> Counter[str]:
        return Counter(r.method for r in self.rpc_log)

    def error_text(self) -> str:
        parts = [f"{urn}: {text}" for urn, text in self.errors.items()]
        parts += [
            f"{urn}: {f.property}: {f.reason}" for urn, fs in self.check_failures.items() for f in fs
        ]
        if self.program_error:
            parts.append(self.program_error)
        return "\n".join(parts)

    def raise_for_errors(self) -> "RunResult":
        if not self.ok:
            raise AssertionError(f"{self.kind} #{self.number} failed:\n{self.error_text()}")
        return self

    def urn(self, name: str, type_prefix: str = "") -> str:
        """The URN this run touched (operation, error, check failure) whose name is ``name`` and whose
        type starts with ``type_prefix``."""
        known = dict.fromkeys([*self.ops, *self.errors, *self.check_failures, *self.outputs])
        found = [
            u for u in known if u.rsplit("::", 1)[-1] == name and u.split("::")[2].split("$")[-1].startswith(type_prefix)
        ]
        if len(found) != 1:
            raise KeyError(f"{len(found)} URNs named {name!r} ({type_prefix}) in {sorted(known)}")
        return found[0]

    def outputs_of(self, name: str, type_prefix: str = "") -> dict[str, Any]:
        return self.outputs[self.urn(name, type_prefix)]

    def op_of(self, name: str, type_prefix: str = "") -> str:
        return self.ops[self.urn(name, type_prefix)]

    def ops_by_kind(self) -> Counter[str]:
        return Counter(self.ops.values())


def iter_strings(value: Any) -> Iterable[str]:
    """Every string inside a nested value (for credential scans)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", "replace")
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from iter_strings(k)
            yield from iter_strings(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from iter_strings(v)
