"""progress.py: what the user sees during `pulumi up` (ProgressReporter, the engine log)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from unit_helpers import FakeClock, backup_id, make_backup

from fsx_backup_component import progress
from fsx_backup_component.progress import ProgressReporter

B1 = backup_id(1)


# -------------------------------------------------------------------------------------------------
# ProgressReporter


def test_progress_reports_every_lifecycle_change_and_rate_limits_percent(clock: FakeClock) -> None:
    messages: list[str] = []
    report = ProgressReporter(messages.append, clock=clock, min_interval=10)
    report(make_backup(B1, "CREATING", percent=0))
    clock.advance(1)
    report(make_backup(B1, "CREATING", percent=5))  # same lifecycle, < 10 s: dropped
    report(make_backup(B1, "CREATING", percent=5))
    clock.advance(1)
    report(make_backup(B1, "TRANSFERRING", percent=10))  # lifecycle change: always shown
    clock.advance(10)
    report(make_backup(B1, "TRANSFERRING", percent=10))  # nothing new: never repeated
    report(make_backup(B1, "TRANSFERRING", percent=60))
    clock.advance(0.5)
    report(make_backup(B1, "AVAILABLE"))
    assert messages == [
        f"FSx backup {B1}: CREATING 0%",
        f"FSx backup {B1}: TRANSFERRING 10%",
        f"FSx backup {B1}: TRANSFERRING 60%",
        f"FSx backup {B1}: AVAILABLE",
    ]


def test_by_default_percent_updates_of_one_lifecycle_come_at_most_every_ten_seconds(clock: FakeClock) -> None:
    """The default is what create() uses (resource.py passes no interval): a poll every 0.5 s must
    not become a message every 0.5 s."""
    messages: list[str] = []
    report = ProgressReporter(messages.append, clock=clock)
    for percent in range(0, 40, 2):  # 20 polls, 0.5 s apart: 9.5 s of CREATING
        report(make_backup(B1, "CREATING", percent=percent))
        clock.advance(0.5)
    report(make_backup(B1, "CREATING", percent=40))  # 10 s after the first message
    report(make_backup(B1, "AVAILABLE"))
    assert messages == [
        f"FSx backup {B1}: CREATING 0%",
        f"FSx backup {B1}: CREATING 40%",
        f"FSx backup {B1}: AVAILABLE",
    ]


def test_engine_log_warnings_are_lasting_and_info_is_ephemeral(monkeypatch: pytest.MonkeyPatch) -> None:
    log = progress.EngineLog("127.0.0.1:1")
    monkeypatch.setattr(log, "_ensure_sender", lambda: None)  # no engine here: read the queue instead
    log.warn("urn:x", "kept old backup")
    log.info("urn:x", "CREATING 10%")
    assert log._queue.get_nowait() == ("urn:x", "kept old backup", False, "WARNING")
    assert log._queue.get_nowait() == ("urn:x", "CREATING 10%", True, "INFO")


def test_engine_log_without_an_engine_drops_warnings() -> None:
    log = progress.EngineLog(None)
    log.warn("urn:x", "nobody listens")
    assert log._queue.empty() and log._thread is None


def test_engine_log_sends_warnings_with_the_warning_severity(monkeypatch: pytest.MonkeyPatch) -> None:
    import grpc
    from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc

    sent: list[Any] = []
    both_sent = threading.Event()

    class FakeEngine:
        def __init__(self, _channel: Any) -> None:
            pass

        def Log(self, request: Any, timeout: float) -> None:  # noqa: N802 - gRPC method name
            sent.append(request)
            if len(sent) == 2:
                both_sent.set()

    monkeypatch.setattr(grpc, "insecure_channel", lambda address: address)
    monkeypatch.setattr(engine_pb2_grpc, "EngineStub", FakeEngine)
    log = progress.EngineLog("127.0.0.1:1")
    log.warn("urn:x", "kept old backup")
    log.info("urn:x", "CREATING 10%")
    assert both_sent.wait(10), sent  # gated on the sender, not on time
    assert [(r.severity, r.ephemeral, r.message, r.urn) for r in sent] == [
        (engine_pb2.WARNING, False, "kept old backup", "urn:x"),
        (engine_pb2.INFO, True, "CREATING 10%", "urn:x"),
    ]
