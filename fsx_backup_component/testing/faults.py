"""Per-test fault injection for the emulated network and service."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .errors import FsxError

__all__ = ["Faults", "ThrottleStorm"]

THROTTLE_CODE = "ThrottlingException"
THROTTLE_MESSAGE = "Rate exceeded"


@dataclass
class ThrottleStorm:
    """``rate`` of the matching requests answered ThrottlingException from ``start`` (emulator clock)
    for ``seconds``, or for the next ``calls`` matching requests when that is given (a storm measured
    in requests hits the same calls however fast or slow the machine runs them).
    ``operations`` None = every FSx operation."""

    rate: float
    start: float
    seconds: float
    operations: frozenset[str] | None
    rng: random.Random
    throttled: int = 0
    seen: int = 0
    calls: int | None = None

    @property
    def end(self) -> float:
        return self.start + self.seconds

    def active(self, now: float) -> bool:
        if self.calls is not None:
            return self.start <= now and self.seen < self.calls
        return self.start <= now < self.end


@dataclass
class Faults:
    """Mutable fault settings, read on every request.

    ``throttle_rate`` answers ``ThrottlingException`` / HTTP 400: that code is in botocore's retryable
    throttling list (docs/emulator.md §10), so clients retry it like a real throttle. ``internal_error_rate``
    answers ``InternalServerError`` / HTTP 500 (the model's only server fault, §0). ``latency_seconds``
    is slept before answering (it stands for network time, so a real sleep is the point).
    ``operations`` restricts faults to those operation names (None = every operation).

    ``throttle_storm(rate, seconds)`` adds a time-boxed storm on top: measured on ``clock`` (the
    emulator sets its own clock here), it throttles ``rate`` of *all* FSx calls (``operations`` does
    not narrow it unless the storm is given its own) until ``seconds`` have passed.
    ``injected`` counts every injected error by code.
    """

    throttle_rate: float = 0.0
    internal_error_rate: float = 0.0
    latency_seconds: float = 0.0
    operations: set[str] | None = None
    clock: Callable[[], float] = field(default=time.time, repr=False)
    # How latency is waited: a test that only asserts *whether* latency applies swaps in a recorder.
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    storms: list[ThrottleStorm] = field(default_factory=list)
    injected: Counter[str] = field(default_factory=Counter)
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def seed(self, value: int) -> None:
        """Make the fault sequence reproducible (one RNG shared by all request threads)."""
        with self._lock:
            self._rng.seed(value)

    def reset(self) -> None:
        """Back to no faults at all (storms included)."""
        self.throttle_rate = 0.0
        self.internal_error_rate = 0.0
        self.latency_seconds = 0.0
        self.operations = None
        with self._lock:
            self.storms.clear()

    def throttle_storm(
        self,
        rate: float = 0.7,
        seconds: float = 8.0,
        *,
        seed: int = 0,
        operations: Iterable[str] | None = None,
        start: float | None = None,
        calls: int | None = None,
    ) -> ThrottleStorm:
        """Arm a storm now (``start`` None) or at ``start`` on the emulator clock: for ``seconds``
        (or, with ``calls``, for that many matching requests, however long they take), a ``rate``
        fraction of all FSx calls (or of ``operations``) answer ThrottlingException (400).
        The storm draws from its own RNG seeded with ``seed``, so a run is reproducible."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be within 0..1")
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        if calls is not None and calls < 0:
            raise ValueError("calls must be >= 0")
        storm = ThrottleStorm(
            rate=float(rate),
            start=self.clock() if start is None else float(start),
            seconds=float(seconds),
            operations=frozenset(operations) if operations is not None else None,
            rng=random.Random(seed),
            calls=calls,
        )
        with self._lock:
            self.storms.append(storm)
        return storm

    def applies_to(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations

    def _storm_throttles(self, operation: str) -> bool:
        now = self.clock()
        throttled = False
        with self._lock:
            for storm in self.storms:
                if not storm.active(now):
                    continue
                if storm.operations is not None and operation not in storm.operations:
                    continue
                storm.seen += 1
                if storm.rng.random() < storm.rate:
                    storm.throttled += 1
                    throttled = True
        return throttled

    def pick(self, operation: str) -> FsxError | None:
        """The injected error for this request, if any. Draws exactly two numbers per faultable
        request from the shared RNG so a seeded run is reproducible regardless of which rates are
        non-zero (storms draw from their own RNGs)."""
        error = self._pick(operation)
        if error is not None:
            with self._lock:
                self.injected[error.code] += 1
        return error

    def _pick(self, operation: str) -> FsxError | None:
        stormed = bool(self.storms) and self._storm_throttles(operation)
        if not self.applies_to(operation):
            return FsxError(THROTTLE_CODE, THROTTLE_MESSAGE) if stormed else None
        with self._lock:
            throttle_draw = self._rng.random()
            internal_draw = self._rng.random()
        if stormed or throttle_draw < self.throttle_rate:
            return FsxError(THROTTLE_CODE, THROTTLE_MESSAGE)
        if internal_draw < self.internal_error_rate:
            return FsxError(
                "InternalServerError",
                "An internal error occurred (injected by the emulator).",
                status=500,
            )
        return None
