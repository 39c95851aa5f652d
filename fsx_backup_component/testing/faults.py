"""Per-test fault injection for the emulated network and service."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

from .errors import FsxError

__all__ = ["Faults"]


@dataclass
class Faults:
    """Mutable fault settings, read on every request.

    ``throttle_rate`` answers ``ThrottlingException`` / HTTP 400: that code is in botocore's retryable
    throttling list (reference §10), so clients retry it like a real throttle. ``internal_error_rate``
    answers ``InternalServerError`` / HTTP 500 (the model's only server fault, §0). ``latency_seconds``
    is slept before answering (it stands for network time, so a real sleep is the point).
    ``operations`` restricts faults to those operation names (None = every operation).
    """

    throttle_rate: float = 0.0
    internal_error_rate: float = 0.0
    latency_seconds: float = 0.0
    operations: set[str] | None = None
    _rng: random.Random = field(default_factory=random.Random, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def seed(self, value: int) -> None:
        """Make the fault sequence reproducible (one RNG shared by all request threads)."""
        with self._lock:
            self._rng.seed(value)

    def reset(self) -> None:
        """Back to no faults at all."""
        self.throttle_rate = 0.0
        self.internal_error_rate = 0.0
        self.latency_seconds = 0.0
        self.operations = None

    def applies_to(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations

    def pick(self, operation: str) -> FsxError | None:
        """The injected error for this request, if any. Draws exactly two numbers per faultable
        request so a seeded run is reproducible regardless of which rates are non-zero."""
        if not self.applies_to(operation):
            return None
        with self._lock:
            throttle_draw = self._rng.random()
            internal_draw = self._rng.random()
        if throttle_draw < self.throttle_rate:
            return FsxError("ThrottlingException", "Rate exceeded")
        if internal_draw < self.internal_error_rate:
            return FsxError(
                "InternalServerError",
                "An internal error occurred (injected by the emulator).",
                status=500,
            )
        return None
