"""Batched waiting: one poll per round for many waits (``BackupWatcher``), one fetch per batch for
many look-ups (``Coalescer``). Generic: AWS is injected (no fsx import).

A stack of 32 backups waits in 32 provider threads. Polled one by one, DescribeBackups calls would grow
with the number of backups and invite account-wide throttling. Here every waiting thread registers its
backup with the region's ``BackupWatcher``; whichever thread finds a poll due first becomes the poller
for that round and asks ``describe`` about *all* pending backups at once, then wakes the others. No
background thread exists, so nothing outlives the waits and tests drive it with a fake clock by
injecting ``wait``. What a poll calls, which lifecycles end a wait and which failures are transient
are given by the caller (runtime.py wires in fsx.py's).

``Coalescer`` does the same for the read-only look-ups of ``check()`` (preview): concurrent checks of
targets on the same file systems share one fetch (lookups.py), and answers are cached briefly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Generic, Mapping, Optional, Sequence, TypeVar

from .errors import BackupDeletedError, BackupTimeoutError

# A clock advanced by exactly the time asked for can land a float rounding error short of it.
_CLOCK_SLACK = 1e-9

Item = dict[str, Any]
"""A description with a ``Lifecycle`` (an FSx Backup)."""
DescribeMany = Callable[[Sequence[str]], Mapping[str, Optional[Item]]]
"""IDs -> their descriptions; ``None`` for one that is gone, absent for one with no news."""
Listener = Callable[[Item], None]
WaitFn = Callable[[threading.Condition, float], object]
"""Waits on the condition (held) for at most the given seconds; what it returns is ignored."""


def condition_wait(condition: threading.Condition, seconds: float) -> None:
    condition.wait(seconds)


def poll_interval(age_seconds: float) -> float:
    """Seconds until the next poll of a backup that has been waited on for ``age_seconds``.

    Half-second polls while a backup is young keep the detection lag of short backups well under a
    second; after that the interval grows with the age (1/30 of it) up to a minute, so a two-hour
    backup costs a few hundred calls, not thousands.
    """
    return min(60.0, max(0.5, age_seconds / 30.0))


def _never(_exc: BaseException) -> bool:
    return False


def _unchanged(exc: BaseException, _subject: str) -> BaseException:
    return exc


@dataclass
class _Watch:
    backup_id: str
    started: float
    next_due: float
    lifecycle: str = "CREATING"
    gone: bool = False
    error: Optional[BaseException] = None
    result: Optional[Item] = None
    listeners: list[Listener] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return self.result is not None or self.gone or self.error is not None


class BackupWatcher:
    """Waits for many backups with one batched poll per round (see module docstring).

    ``describe`` answers a round; a wait ends when a backup's Lifecycle is in ``settled``. A failed
    round for which ``is_transient`` is true is "no news" (polled again later); any other failure
    ends the waits of that round with ``as_error(failure, backup ID)``.
    """

    def __init__(
        self,
        describe: DescribeMany,
        *,
        settled: Collection[str],
        is_transient: Callable[[BaseException], bool] = _never,
        as_error: Callable[[BaseException, str], BaseException] = _unchanged,
        clock: Callable[[], float] = time.monotonic,
        wait: WaitFn = condition_wait,
        interval: Callable[[float], float] = poll_interval,
        first_poll_after: float = 0.5,
    ) -> None:
        self._describe = describe
        self._settled = frozenset(settled)
        self._is_transient = is_transient
        self._as_error = as_error
        self._clock = clock
        self._wait = wait
        self._interval = interval
        self._first_poll_after = first_poll_after
        self._cond = threading.Condition()
        self._watches: dict[str, _Watch] = {}
        self._waiters: dict[str, int] = {}
        self._polling = False
        self.rounds = 0  # poll rounds made; observable for tests and benchmarks

    def wait(
        self,
        backup_id: str,
        *,
        deadline: float,
        on_progress: Optional[Listener] = None,
        initial: Optional[Item] = None,
    ) -> Item:
        """Block until the backup's lifecycle is settled (AVAILABLE or FAILED) and return its description.

        FAILED is returned too (the caller decides about deleting it); a vanished backup raises
        BackupDeletedError; the deadline raises BackupTimeoutError with the last lifecycle seen.
        """
        with self._cond:
            watch = self._register(backup_id, initial, on_progress)
            try:
                while True:
                    if watch.settled:
                        return self._outcome(watch)
                    now = self._clock()
                    if now >= deadline:
                        raise BackupTimeoutError(backup_id, watch.lifecycle, now - watch.started)
                    due = min(w.next_due for w in self._watches.values() if not w.settled)
                    if not self._polling and due <= now + _CLOCK_SLACK:
                        self._poll_round()
                        continue
                    # While another thread polls, its notify wakes us; otherwise sleep until due.
                    until = deadline if self._polling else min(due, deadline)
                    self._wait(self._cond, max(0.0, until - now))
            finally:
                self._unregister(watch)

    # -- internals; all called with the condition held -------------------------------------

    def _register(self, backup_id: str, initial: Optional[Item], on_progress: Optional[Listener]) -> _Watch:
        watch = self._watches.get(backup_id)
        if watch is None:
            now = self._clock()
            # A newcomer joins the next round if one comes sooner than its own first poll: creates of
            # a large stack arrive over seconds, and a round of its own for each would re-ask about
            # every pending backup (ceil(pending/50) calls) a moment after the last round did.
            first = now + self._first_poll_after
            if not self._polling:
                first = min([first, *(w.next_due for w in self._watches.values() if not w.settled)])
            watch = _Watch(backup_id=backup_id, started=now, next_due=first)
            if initial is not None:
                watch.lifecycle = initial.get("Lifecycle", watch.lifecycle)
            self._watches[backup_id] = watch
        if on_progress is not None:
            watch.listeners.append(on_progress)
        self._waiters[backup_id] = self._waiters.get(backup_id, 0) + 1
        return watch

    def _unregister(self, watch: _Watch) -> None:
        remaining = self._waiters.get(watch.backup_id, 1) - 1
        if remaining <= 0:
            self._waiters.pop(watch.backup_id, None)
            self._watches.pop(watch.backup_id, None)
        else:
            self._waiters[watch.backup_id] = remaining

    def _outcome(self, watch: _Watch) -> Item:
        if watch.error is not None:
            raise watch.error
        if watch.gone:
            raise BackupDeletedError(watch.backup_id)
        assert watch.result is not None
        return watch.result

    def _poll_round(self) -> None:
        pending = [w for w in self._watches.values() if not w.settled]
        ids = [w.backup_id for w in pending]
        self._polling = True
        self._cond.release()
        answers: Mapping[str, Optional[Item]] = {}
        failure: Optional[BaseException] = None
        try:
            answers = self._describe(ids)
        except Exception as exc:  # noqa: BLE001 - sorted below into transient vs fatal
            failure = exc
        finally:
            self._cond.acquire()
            self._polling = False
        self.rounds += 1
        now = self._clock()
        for watch in pending:
            if watch.backup_id not in self._watches:
                continue
            if failure is not None:
                if not self._is_transient(failure):
                    watch.error = self._as_error(failure, watch.backup_id)
                watch.next_due = now + self._interval(now - watch.started)
                continue
            if watch.backup_id not in answers:
                watch.next_due = now + self._interval(now - watch.started)
                continue
            backup = answers[watch.backup_id]
            if backup is None:
                watch.gone = True
                continue
            watch.lifecycle = backup["Lifecycle"]
            for listener in watch.listeners:
                listener(backup)
            if watch.lifecycle in self._settled:
                watch.result = backup
            else:
                watch.next_due = now + self._interval(now - watch.started)
        # Waits registered while this round was in flight were not in it: they join the next one.
        polled = {w.backup_id for w in pending}
        upcoming = [w.next_due for w in pending if not w.settled and w.backup_id in self._watches]
        if upcoming:
            for watch in self._watches.values():
                if watch.backup_id not in polled and not watch.settled:
                    watch.next_due = min(watch.next_due, min(upcoming))
        self._cond.notify_all()


V = TypeVar("V")


class Coalescer(Generic[V]):
    """Single-flight, batched, briefly cached look-ups by key.

    Callers arriving within ``window`` seconds of each other share one ``fetch`` of all their keys;
    answers are reused for ``ttl`` seconds (one preview, then the preview pass of `pulumi up`).
    ``ttl=0`` caches nothing: a caller gets the answer of a fetch that started after it arrived
    (listings that decide whether to adopt a backup must not be older than the question).
    """

    def __init__(
        self,
        fetch: Callable[[Sequence[str]], Mapping[str, V]],
        *,
        window: float = 0.05,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        wait: WaitFn = condition_wait,
    ) -> None:
        self._fetch = fetch
        self._window = window
        self._ttl = ttl
        self._clock = clock
        self._wait = wait
        self._cond = threading.Condition()
        self._cache: dict[str, tuple[float, int, V]] = {}  # key -> (fetched at, fetch started as, answer)
        self._errors: dict[str, tuple[int, BaseException]] = {}
        self._queued: dict[str, float] = {}
        self._in_flight: set[str] = set()
        self.fetches = 0
        self._started = 0  # fetches started

    def get(self, key: str) -> V:
        with self._cond:
            # A failed fetch is reported to every caller that was waiting for it, and only to them:
            # a caller arriving later asks again.
            arrived, asked = self.fetches, self._started
            while True:
                cached = self._cache.get(key)
                if cached is not None and (
                    self._clock() - cached[0] < self._ttl if self._ttl > 0 else cached[1] > asked
                ):
                    return cached[2]
                failed = self._errors.get(key)
                if failed is not None and failed[0] > arrived:
                    raise failed[1]
                if key not in self._queued and key not in self._in_flight:
                    self._queued[key] = self._clock()
                now = self._clock()
                if self._queued and not self._in_flight:
                    remaining = self._window - (now - min(self._queued.values()))
                    if remaining <= _CLOCK_SLACK:
                        self._fetch_queued()
                        continue
                    self._wait(self._cond, remaining)
                    continue
                self._wait(self._cond, self._window)

    def _fetch_queued(self) -> None:
        keys = list(self._queued)
        self._queued.clear()
        self._started += 1
        started = self._started
        self._in_flight.update(keys)
        self._cond.release()
        answers: Mapping[str, V] = {}
        failure: Optional[BaseException] = None
        try:
            answers = self._fetch(keys)
        except Exception as exc:  # noqa: BLE001 - handed to every caller of this batch
            failure = exc
        finally:
            self._cond.acquire()
            self._in_flight.difference_update(keys)
        self.fetches += 1
        batch = self.fetches
        now = self._clock()
        for key in keys:
            if failure is not None:
                self._errors[key] = (batch, failure)
            elif key in answers:
                self._cache[key] = (now, started, answers[key])
                self._errors.pop(key, None)
            else:
                self._errors[key] = (batch, KeyError(key))
        self._cond.notify_all()
