"""BackupWatcher (one batched poll per round for many waits) and Coalescer (single-flight look-ups).

Single-thread tests inject a ``wait`` that moves a fake clock instead of blocking. Multi-thread tests
freeze a fake clock that only the test thread moves, and let waiters re-check it every few
milliseconds: every step is gated on an event or an observed state, never on a sleep's length.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Optional

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import FakeClock, backup_id, fast_settings, make_backup

from fsx_backup_component import fsx
from fsx_backup_component.errors import AwsApiError, BackupDeletedError, BackupTimeoutError
from fsx_backup_component.runtime import SETTLED
from fsx_backup_component.watcher import BackupWatcher, Coalescer, poll_interval

# As runtime.py wires the watcher in production: fsx's transient classifier and error mapping.
WIRED: dict[str, Any] = {"settled": SETTLED, "is_transient": fsx.is_transient, "as_error": fsx.as_package_error}

B1, B2 = backup_id(1), backup_id(2)
TIMEOUT = 10.0  # upper bound for any multi-thread step; reached only when something is broken


def client_error(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"RequestId": "rid"}},
                       "DescribeBackups")


class ScriptedDescribe:
    """describe(ids): per round, the next scripted outcome (a lifecycle for every id, or an error)."""

    def __init__(self, script: Sequence[Any]) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    def __call__(self, ids: Sequence[str]) -> Mapping[str, Optional[dict[str, Any]]]:
        self.calls.append(list(ids))
        step = self.script[min(len(self.calls) - 1, len(self.script) - 1)]
        if isinstance(step, BaseException):
            raise step
        if callable(step):
            return step(ids)
        return {i: (None if step is None else make_backup(i, step, percent=len(self.calls))) for i in ids}


def single_thread_watcher(describe: Callable[..., Any], clock: FakeClock) -> BackupWatcher:
    return BackupWatcher(describe, **WIRED, clock=clock, wait=clock.condition_wait)


# -------------------------------------------------------------------------------------------------
# single thread, fake clock


def test_wait_polls_until_available_one_call_per_round(clock: FakeClock) -> None:
    describe = ScriptedDescribe(["CREATING", "CREATING", "AVAILABLE"])
    watcher = single_thread_watcher(describe, clock)
    seen: list[str] = []
    backup = watcher.wait(B1, deadline=clock() + 600, on_progress=lambda b: seen.append(b["Lifecycle"]))
    assert backup["Lifecycle"] == "AVAILABLE"
    assert watcher.rounds == 3 and describe.calls == [[B1]] * 3
    assert seen == ["CREATING", "CREATING", "AVAILABLE"]
    assert clock.sleeps == [0.5, 0.5, 0.5]  # first poll after 0.5 s, then poll_interval(young) = 0.5


def test_failed_is_returned_not_raised(clock: FakeClock) -> None:
    watcher = single_thread_watcher(ScriptedDescribe(["FAILED"]), clock)
    assert watcher.wait(B1, deadline=clock() + 60)["Lifecycle"] == "FAILED"


def test_vanished_backup_raises_deleted(clock: FakeClock) -> None:
    watcher = single_thread_watcher(ScriptedDescribe(["CREATING", None]), clock)
    with pytest.raises(BackupDeletedError, match=B1):
        watcher.wait(B1, deadline=clock() + 60)


def test_deadline_names_the_last_lifecycle_seen(clock: FakeClock) -> None:
    watcher = single_thread_watcher(ScriptedDescribe(["TRANSFERRING"]), clock)
    with pytest.raises(BackupTimeoutError) as info:
        watcher.wait(B1, deadline=clock() + 5)
    assert (info.value.backup_id, info.value.lifecycle) == (B1, "TRANSFERRING")
    assert info.value.waited_seconds == pytest.approx(5)
    assert sum(clock.sleeps) == pytest.approx(5)  # never slept past the deadline


def test_deadline_before_any_poll_reports_the_initial_lifecycle(clock: FakeClock) -> None:
    describe = ScriptedDescribe(["AVAILABLE"])
    watcher = single_thread_watcher(describe, clock)
    with pytest.raises(BackupTimeoutError, match="still PENDING"):
        watcher.wait(B1, deadline=clock() + 0.1, initial=make_backup(B1, "PENDING"))
    assert describe.calls == []


def test_transient_errors_keep_polling(clock: FakeClock) -> None:
    describe = ScriptedDescribe([client_error("ThrottlingException"), client_error("InternalServerError"),
                                 "AVAILABLE"])
    watcher = single_thread_watcher(describe, clock)
    assert watcher.wait(B1, deadline=clock() + 60)["Lifecycle"] == "AVAILABLE"
    assert watcher.rounds == 3


def test_fatal_error_is_an_api_error(clock: FakeClock) -> None:
    watcher = single_thread_watcher(ScriptedDescribe([client_error("AccessDeniedException", "no")]), clock)
    with pytest.raises(AwsApiError) as info:
        watcher.wait(B1, deadline=clock() + 60)
    assert info.value.code == "AccessDeniedException" and info.value.request_id == "rid"
    assert B1 in str(info.value)


def test_watcher_forgets_a_backup_when_its_last_waiter_leaves(clock: FakeClock) -> None:
    describe = ScriptedDescribe(["AVAILABLE"])
    watcher = single_thread_watcher(describe, clock)
    watcher.wait(B1, deadline=clock() + 60)
    watcher.wait(B1, deadline=clock() + 60)  # a new wait polls again: no stale result is served
    assert len(describe.calls) == 2


def test_batches_of_more_than_50_go_through_describe_backups(client: Any, stubber: Any, clock: FakeClock) -> None:
    """The watcher hands all pending IDs to describe; fsx.describe_backups splits them by 50."""
    ids = [backup_id(n) for n in range(60)]
    stubber.add_response("describe_backups", {"Backups": [make_backup(i, "AVAILABLE") for i in ids[:50]]},
                         expected_params={"BackupIds": ids[:50]})
    stubber.add_response("describe_backups", {"Backups": [make_backup(i, "AVAILABLE") for i in ids[50:]]},
                         expected_params={"BackupIds": ids[50:]})
    answers = fsx.describe_backups(client, ids)
    assert all(answers[i]["Lifecycle"] == "AVAILABLE" for i in ids)  # type: ignore[index]


# -------------------------------------------------------------------------------------------------
# many threads, one poller per round


class FakeFsx:
    """describe_backups by lifecycle table; records the size of every request (<= 50 by the model)."""

    def __init__(self, lifecycles: dict[str, str]) -> None:
        self.lifecycles = lifecycles
        self.request_sizes: list[int] = []
        self.lock = threading.Lock()

    def can_paginate(self, _operation: str) -> bool:
        return False  # one page per call: fsx follows NextToken by hand (there is none here)

    def describe_backups(self, BackupIds: list[str]) -> dict[str, Any]:  # noqa: N803 - boto3 name
        with self.lock:
            assert len(BackupIds) <= 50
            self.request_sizes.append(len(BackupIds))
            return {"Backups": [make_backup(i, self.lifecycles[i]) for i in BackupIds]}


class Harness:
    """N waiting threads over one watcher whose clock only the test moves."""

    def __init__(self, describe: Callable[[Sequence[str]], Any], n: int, deadline: float = 3600) -> None:
        self.clock = FakeClock()
        self.rounds_done = threading.Semaphore(0)
        self.registered = threading.Semaphore(0)

        def describe_and_signal(ids: Sequence[str]) -> Any:
            try:
                return describe(ids)
            finally:
                self.rounds_done.release()

        harness = self

        class SignallingWatcher(BackupWatcher):
            def _register(self, *args: Any) -> Any:
                watch = super()._register(*args)
                harness.registered.release()
                return watch

        self.watcher = SignallingWatcher(
            describe_and_signal, **WIRED, clock=self.clock, wait=lambda c, s: c.wait(0.005)
        )
        self.results: dict[str, Any] = {}
        self.threads = [threading.Thread(target=self._run, args=(backup_id(i), self.clock() + deadline),
                                         daemon=True) for i in range(n)]

    def _run(self, bid: str, deadline: float) -> None:
        try:
            self.results[bid] = self.watcher.wait(bid, deadline=deadline)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            self.results[bid] = exc

    def start_all_registered(self) -> None:
        for thread in self.threads:
            thread.start()
        for _ in self.threads:
            assert self.registered.acquire(timeout=TIMEOUT)

    def next_round(self) -> None:
        self.clock.advance(60.0)
        assert self.rounds_done.acquire(timeout=TIMEOUT), "no poll round happened"

    def join(self) -> None:
        for thread in self.threads:
            thread.join(TIMEOUT)
            assert not thread.is_alive()


def test_n_concurrent_waits_make_one_describe_per_round() -> None:
    n = 60
    ids = [backup_id(i) for i in range(n)]
    aws = FakeFsx(dict.fromkeys(ids, "CREATING"))
    harness = Harness(lambda batch: fsx.describe_backups(aws, batch), n)
    harness.start_all_registered()
    harness.next_round()
    harness.next_round()
    aws.lifecycles.update(dict.fromkeys(ids, "AVAILABLE"))
    harness.next_round()
    harness.join()
    assert all(harness.results[i]["Lifecycle"] == "AVAILABLE" for i in ids)
    assert harness.watcher.rounds == 3  # not 60 x 3
    assert aws.request_sizes == [50, 10] * 3  # each round: all 60 IDs, in model-sized batches


class PagedWire:
    """DescribeBackups by IDs served at the HTTP layer of a real boto3 client (botocore's paginator,
    parser and model all run): ``page_size`` backups per page, in a shuffled order, each page but the
    last with a NextToken, as FSx may answer a look-up by IDs."""

    def __init__(self, client: Any, lifecycles: dict[str, str], page_size: int = 7, seed: int = 14) -> None:
        self.lifecycles = lifecycles
        self.page_size = page_size
        self.random = random.Random(seed)
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._orders: dict[tuple[str, ...], list[str]] = {}
        client.meta.events.register("before-send.fsx.DescribeBackups", self._send)

    def _send(self, request: Any, **_: Any) -> AWSResponse:
        body = json.loads(request.body)
        with self.lock:
            self.requests.append(body)
            ids = tuple(body["BackupIds"])
            if "NextToken" not in body:
                order = list(ids)
                self.random.shuffle(order)
                self._orders[ids] = order
            order = self._orders[ids]
            start = int(body.get("NextToken", "0"))
            page = order[start:start + self.page_size]
            answer: dict[str, Any] = {"Backups": [
                {"BackupId": i, "Lifecycle": self.lifecycles[i], "Type": "USER_INITIATED", "CreationTime": 1.7e9,
                 "FileSystem": {"FileSystemId": "fs-0123456789abcdef0"}} for i in page]}
            if start + self.page_size < len(order):
                answer["NextToken"] = str(start + self.page_size)
        headers = {"x-amzn-RequestId": f"req-{len(self.requests)}", "Content-Type": "application/x-amz-json-1.1"}
        return AWSResponse(request.url, 200, headers, _Raw(json.dumps(answer).encode()))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body


def test_the_watchers_describe_of_many_ids_reads_every_page(client: Any) -> None:
    """60 waits; FSx answers each batch of IDs 7 per page in no particular order. No wait is told its
    backup was deleted because it was on a later page, and every round still is one describe."""
    n = 60
    ids = [backup_id(i) for i in range(n)]
    wire = PagedWire(client, dict.fromkeys(ids, "CREATING"))
    harness = Harness(lambda batch: fsx.describe_backups(client, batch, retry=False), n)
    harness.start_all_registered()
    harness.next_round()
    wire.lifecycles.update(dict.fromkeys(ids, "AVAILABLE"))
    harness.next_round()
    harness.join()
    outcomes = {i: r["Lifecycle"] if isinstance(r, dict) else repr(r) for i, r in harness.results.items()}
    assert outcomes == dict.fromkeys(ids, "AVAILABLE")
    assert harness.watcher.rounds == 2
    # Each round: a batch of 50 in 8 pages and a batch of 10 in 2, every page asked by the same IDs.
    assert len(wire.requests) == 2 * (8 + 2)
    assert sorted(len(r["BackupIds"]) for r in wire.requests) == sorted([50] * 16 + [10] * 4)


def test_fatal_error_reaches_every_waiter() -> None:
    n = 5
    harness = Harness(ScriptedDescribe([client_error("AccessDeniedException")]), n)
    harness.start_all_registered()
    harness.next_round()
    harness.join()
    assert harness.watcher.rounds == 1
    assert all(isinstance(r, AwsApiError) and r.code == "AccessDeniedException" for r in harness.results.values())


def test_mixed_outcomes_are_delivered_to_the_right_waiters() -> None:
    def answer(ids: Sequence[str]) -> dict[str, Any]:
        table = {backup_id(0): make_backup(backup_id(0), "AVAILABLE"),
                 backup_id(1): make_backup(backup_id(1), "FAILED", failure="disk full"),
                 backup_id(2): None}
        return {i: table[i] for i in ids}

    harness = Harness(answer, 3)
    harness.start_all_registered()
    harness.next_round()
    harness.join()
    assert harness.results[backup_id(0)]["Lifecycle"] == "AVAILABLE"
    assert harness.results[backup_id(1)]["FailureDetails"]["Message"] == "disk full"
    assert isinstance(harness.results[backup_id(2)], BackupDeletedError)


def test_real_threads_real_clock_share_polls() -> None:
    """Smoke test on real time (tiny intervals): the share of polling holds without any fake."""
    n = 8
    state = {"polls": 0}
    lock = threading.Lock()

    def describe(ids: Sequence[str]) -> dict[str, Any]:
        with lock:
            state["polls"] += 1
            done = state["polls"] >= 5
        return {i: make_backup(i, "AVAILABLE" if done else "CREATING") for i in ids}

    watcher = BackupWatcher(describe, **WIRED, first_poll_after=0.001, interval=lambda age: 0.002)
    barrier = threading.Barrier(n)
    results: list[Any] = []

    def run(i: int) -> None:
        barrier.wait(TIMEOUT)
        results.append(watcher.wait(backup_id(i), deadline=time.monotonic() + TIMEOUT))

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert len(results) == n and all(r["Lifecycle"] == "AVAILABLE" for r in results)
    assert watcher.rounds == state["polls"]
    assert state["polls"] < n * 5  # shared, not one poller per waiter


# -------------------------------------------------------------------------------------------------
# Coalescer


class CountingFetch:
    def __init__(self, answer: Callable[[Sequence[str]], Mapping[str, Any]]) -> None:
        self.answer = answer
        self.calls: list[list[str]] = []
        self.done = threading.Semaphore(0)

    def __call__(self, keys: Sequence[str]) -> Mapping[str, Any]:
        self.calls.append(sorted(keys))
        try:
            return self.answer(keys)
        finally:
            self.done.release()


def test_coalescer_fetches_after_the_window_and_caches_for_ttl(clock: FakeClock) -> None:
    fetch = CountingFetch(lambda keys: {k: k.upper() for k in keys})
    c: Coalescer[str] = Coalescer(fetch, window=0.05, ttl=60, clock=clock, wait=clock.condition_wait)
    assert c.get("a") == "A"
    assert clock.sleeps == [pytest.approx(0.05)]
    clock.advance(59)
    assert c.get("a") == "A" and fetch.calls == [["a"]]
    clock.advance(2)
    assert c.get("a") == "A" and fetch.calls == [["a"], ["a"]]
    assert c.fetches == 2


def test_coalescer_caches_none_answers(clock: FakeClock) -> None:
    fetch = CountingFetch(lambda keys: dict.fromkeys(keys))
    c: Coalescer[Optional[str]] = Coalescer(fetch, clock=clock, wait=clock.condition_wait)
    assert c.get("missing") is None
    assert c.get("missing") is None
    assert len(fetch.calls) == 1


def test_coalescer_propagates_errors_and_does_not_cache_them(clock: FakeClock) -> None:
    outcomes: list[Any] = [client_error("ThrottlingException"), {"a": 1}]

    def answer(keys: Sequence[str]) -> Mapping[str, Any]:
        step = outcomes.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step

    c: Coalescer[int] = Coalescer(CountingFetch(answer), clock=clock, wait=clock.condition_wait)
    with pytest.raises(ClientError, match="ThrottlingException"):
        c.get("a")
    assert c.get("a") == 1


def test_coalescer_key_missing_from_the_answer_is_a_key_error(clock: FakeClock) -> None:
    c: Coalescer[int] = Coalescer(lambda keys: {}, clock=clock, wait=clock.condition_wait)
    with pytest.raises(KeyError):
        c.get("a")


def _threaded_gets(c: Coalescer[Any], keys: Sequence[str]) -> tuple[list[threading.Thread], dict[int, Any]]:
    results: dict[int, Any] = {}

    def run(i: int, key: str) -> None:
        try:
            results[i] = c.get(key)
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, k), daemon=True) for i, k in enumerate(keys)]
    for t in threads:
        t.start()
    return threads, results


def _until(predicate: Callable[[], bool]) -> None:
    end = time.monotonic() + TIMEOUT
    while not predicate():
        assert time.monotonic() < end, "condition not reached"
        time.sleep(0.001)


def test_concurrent_gets_for_different_keys_share_one_fetch() -> None:
    clock = FakeClock()
    fetch = CountingFetch(lambda keys: {k: f"value-{k}" for k in keys})
    c: Coalescer[str] = Coalescer(fetch, window=0.05, clock=clock, wait=lambda cond, s: cond.wait(0.005))
    keys = [f"fs-{i}" for i in range(12)]
    threads, results = _threaded_gets(c, keys)
    _until(lambda: len(c._queued) == len(keys))  # every caller has queued its key
    clock.advance(0.05 + 1e-6)  # past the window (float-exact 0.05 is not: see FakeClock)
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert fetch.calls == [sorted(keys)]
    assert [results[i] for i in range(len(keys))] == [f"value-{k}" for k in keys]


def test_a_batch_failure_reaches_every_caller_of_the_batch() -> None:
    clock = FakeClock()

    def fail(keys: Sequence[str]) -> Mapping[str, Any]:
        raise client_error("AccessDeniedException")

    fetch = CountingFetch(fail)
    c: Coalescer[str] = Coalescer(fetch, window=0.05, clock=clock, wait=lambda cond, s: cond.wait(0.005))
    threads, results = _threaded_gets(c, ["a", "b", "c"])
    _until(lambda: len(c._queued) == 3)
    clock.advance(0.05 + 1e-6)  # past the window (float-exact 0.05 is not: see FakeClock)
    for t in threads:
        t.join(TIMEOUT)
    assert len(fetch.calls) == 1
    assert all(isinstance(r, ClientError) for r in results.values())


def test_concurrent_callers_of_one_failing_key_share_one_fetch() -> None:
    clock = FakeClock()
    waiting: set[int] = set()

    def fail(keys: Sequence[str]) -> Mapping[str, Any]:
        raise client_error("ThrottlingException")

    def wait(cond: threading.Condition, _seconds: float) -> None:
        waiting.add(threading.get_ident())
        cond.wait(0.005)

    fetch = CountingFetch(fail)
    c: Coalescer[str] = Coalescer(fetch, window=0.05, clock=clock, wait=wait)
    threads, results = _threaded_gets(c, ["a", "a"])
    _until(lambda: len(waiting) == 2)  # both callers are inside get(), sharing the queued key
    clock.advance(0.05 + 1e-6)
    assert fetch.done.acquire(timeout=TIMEOUT)
    # With the bug the second caller queues the key again: let that second fetch happen, not hang.
    _until(lambda: bool(c._queued) or len(results) == 2)
    clock.advance(0.05 + 1e-6)
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert len(results) == 2 and all(isinstance(r, ClientError) for r in results.values())
    assert len(fetch.calls) == 1


# -------------------------------------------------------------------------------------------------
# poll_interval


@pytest.mark.parametrize("age,interval", [(0, 0.5), (10, 0.5), (15, 0.5), (30, 1.0), (300, 10.0), (1800, 60.0), (1e6, 60.0)])
def test_poll_interval_shape(age: float, interval: float) -> None:
    assert poll_interval(age) == pytest.approx(interval)


@fast_settings()
@given(a=st.floats(0, 1e7), b=st.floats(0, 1e7))
def test_poll_interval_is_bounded_and_monotonic(a: float, b: float) -> None:
    lo, hi = sorted((a, b))
    assert 0.5 <= poll_interval(lo) <= poll_interval(hi) <= 60.0


def _polls_for(duration: float) -> int:
    age, polls = 0.0, 0
    while age < duration:
        age += poll_interval(age)
        polls += 1
    return polls


def test_a_two_hour_backup_costs_fewer_than_400_polls_and_a_short_one_is_seen_quickly() -> None:
    assert _polls_for(2 * 3600) < 400
    assert _polls_for(10) == 20  # detection lag under a second while young


def test_a_newcomer_joins_the_next_round_instead_of_making_its_own() -> None:
    """Creates of a large stack arrive over seconds: each one due 0.5 s after its arrival would make a
    round of its own, re-asking about every pending backup a moment after the last round."""
    clock = FakeClock()
    watcher = BackupWatcher(lambda ids: {}, **WIRED, clock=clock, wait=clock.condition_wait)
    with watcher._cond:
        first = watcher._register(backup_id(1), None, None)
        clock.advance(0.3)
        newcomer = watcher._register(backup_id(2), None, None)
    assert newcomer.next_due == first.next_due == 1000.5  # one round at 0.5 s for both, not 0.5 and 0.8


def test_a_wait_registered_while_a_round_is_in_flight_joins_the_following_round() -> None:
    clock = FakeClock()
    watcher: BackupWatcher

    def describe(ids: Sequence[str]) -> dict[str, Any]:
        clock.advance(0.2)  # the round takes a while; meanwhile another create registers
        with watcher._cond:
            watcher._register(backup_id(2), None, None)
        return {i: make_backup(i, "CREATING") for i in ids}

    watcher = BackupWatcher(describe, **WIRED, clock=clock, wait=clock.condition_wait)
    with watcher._cond:
        polled = watcher._register(backup_id(1), None, None)
        clock.advance(0.5)
        watcher._poll_round()
        newcomer = watcher._watches[backup_id(2)]
    assert newcomer.next_due == polled.next_due  # the next round asks about both
