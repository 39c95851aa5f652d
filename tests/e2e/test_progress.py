"""Progress while create() waits reaches the engine's Log service, attached to the resource."""

from __future__ import annotations

from collections import Counter
from typing import Any, Callable

from e2e_helpers import BACKUP_TYPE, backup_program, make_target

# ProgressReporter's interval: within one lifecycle, at most one message per this many seconds.
MIN_INTERVAL = 10.0


def test_progress_messages_reach_the_engine_for_the_resource(emu: Any, harness: Callable[..., Any]) -> None:
    # Long enough for a dozen polls (every 0.5 s while young), each with a new percentage.
    emu.set_backup_seconds(6.0)
    h = harness(backup_program("nightly", **make_target(emu, "lustre-persistent2")))

    up = h.up().raise_for_errors()

    urn = up.urn("nightly", BACKUP_TYPE)
    backup_id = up.stack_outputs["backup_id"]
    messages = h.engine.for_urn(urn)
    assert messages, f"no progress for {urn}; all: {h.logs}"
    assert {m.urn for m in h.logs} == {urn}, "progress is attached to the backup's URN (as the engine knows it)"
    assert all(m.ephemeral and m.severity == "info" for m in messages)
    assert all(backup_id in m.message for m in messages)
    assert "AVAILABLE" in messages[-1].message
    assert any("CREATING" in m.message or "PENDING" in m.message for m in messages)
    # a sensible rate: lifecycle changes plus at most one message per interval, not one per poll
    describe_calls = emu.calls["DescribeBackups"]
    assert len(messages) <= 8 and len(messages) <= describe_calls + 1, (len(messages), describe_calls)
    create = up.rpcs("Create", urn)[0]
    assert all(create.started <= m.mono <= create.ended for m in messages), "sent while create() waits"
    # Each lifecycle: its first message, then at most one per MIN_INTERVAL of the wait.
    per_lifecycle = Counter(m.message.split(": ", 1)[1].split(" ")[0] for m in messages)
    allowed = 1 + int((create.ended - create.started) // MIN_INTERVAL)
    assert max(per_lifecycle.values()) <= allowed, (per_lifecycle, [m.message for m in messages])
