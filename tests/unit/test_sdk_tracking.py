"""sdk_tracking.py against the SDK's internals: these tests fail loudly when the internals it relies
on move (the component then still works, only the quadratic end-of-program wait comes back)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime import stack as sdk_stack

from fsx_backup_component import sdk_tracking


@pytest.fixture
def loop() -> Any:
    """A loop of the test's own; the SDK's tracked set is left as the test found it."""
    outputs = sdk_settings.SETTINGS.outputs
    saved = set(outputs)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    outputs.clear()
    outputs.update(saved)
    loop.close()
    asyncio.set_event_loop(asyncio.new_event_loop())


def test_the_sdk_still_keeps_a_locked_set_of_tracked_output_tasks(loop: Any) -> None:
    found = sdk_tracking._tracked_set()
    assert found is not None, "pulumi.runtime.settings.SETTINGS.outputs / .lock are gone"
    outputs, _lock = found
    before = set(outputs)
    made = pulumi.Output.from_input("v").apply(str.upper)
    assert made._data in outputs and made._data not in before
    assert loop.run_until_complete(made.future()) == "V"


def test_the_sdk_end_of_program_wait_still_goes_over_the_tracked_outputs() -> None:
    # The reason for sdk_tracking: if this loop is gone, so is the quadratic cost (and the module can go).
    source = inspect.getsource(sdk_stack.wait_for_rpcs)
    assert "SETTINGS.outputs" in source and "FIRST_COMPLETED" in source


def test_outputs_made_inside_the_block_are_untracked_and_others_kept(loop: Any) -> None:
    outside = pulumi.Output.from_input(1).apply(lambda v: v + 1)
    with sdk_tracking.awaited_by_registrations():
        inside = [pulumi.Output.from_input(i).apply(lambda v: v * 2) for i in range(5)]
    outputs = sdk_settings.SETTINGS.outputs
    assert outside._data in outputs
    assert not any(o._data in outputs for o in inside)
    assert loop.run_until_complete(asyncio.gather(*(o.future() for o in inside))) == [0, 2, 4, 6, 8]


def test_an_sdk_without_the_set_leaves_everything_as_it_was(loop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    real = sdk_settings.SETTINGS
    monkeypatch.setattr(sdk_settings, "SETTINGS", object())  # a future SDK: no `outputs`, no `lock`
    with sdk_tracking.awaited_by_registrations():
        made = pulumi.Output.from_input("v").apply(str.upper)
    assert sdk_tracking.tracked_count() is None
    assert made._data in real.outputs
    assert loop.run_until_complete(made.future()) == "V"
