"""The harness runs resource hooks as the engine does: through the program's callback server, with
the inputs/outputs of resource_hooks.py's table; a before_* hook error fails that operation; delete
hooks run while the program is still alive (end of `up`, or `destroy --run-program`)."""

from __future__ import annotations

from typing import Any, Callable, Optional

import pulumi
from pulumi.resource_hooks import ResourceHook, ResourceHookArgs, ResourceHookBinding

THING = "test:index:Thing"


class Thing(pulumi.CustomResource):
    """A custom resource the harness provides in memory (no provider process needed)."""

    def __init__(self, name: str, value: int, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(THING, name, {"value": value}, opts)


def _program(value: int, seen: list[tuple[str, ResourceHookArgs]], fail: bool = False, present: bool = True) -> Callable[[], None]:
    def program() -> None:
        def record(kind: str) -> Callable[[ResourceHookArgs], None]:
            def hook(args: ResourceHookArgs) -> None:
                seen.append((kind, args))
                if fail:
                    raise RuntimeError("refusing to change without a backup")

            return hook

        before_update = ResourceHook("record-before-update", record("before_update"))
        before_delete = ResourceHook("record-before-delete", record("before_delete"))
        if present:
            Thing(
                "fs",
                value,
                pulumi.ResourceOptions(hooks=ResourceHookBinding(before_update=[before_update], before_delete=[before_delete])),
            )

    return program


def test_before_update_and_before_delete_hooks(harness: Callable[..., Any]) -> None:
    seen: list[tuple[str, ResourceHookArgs]] = []
    h = harness()

    h.up(_program(1, seen)).raise_for_errors()
    assert seen == [], "no update hook on creation"

    update = h.up(_program(2, seen)).raise_for_errors()
    urn = update.urn("fs", THING)
    assert update.ops[urn] == "update"
    ((kind, args),) = seen
    assert kind == "before_update"
    assert args.urn == urn and args.name == "fs" and args.type == THING and args.id == h.state.resources[urn].id
    assert args.old_inputs is not None and args.old_inputs["value"] == 1
    assert args.new_inputs is not None and args.new_inputs["value"] == 2
    assert args.old_outputs is not None and args.old_outputs["value"] == 1
    assert args.new_outputs is None
    hook_end = h.events.first(kind="hook", name="record-before-update", phase="end")
    update_start = h.events.first(kind="op", name="update", phase="start", urn=urn)
    assert hook_end.seq < update_start.seq, "the hook finished before the change started"

    seen.clear()
    failing = h.up(_program(3, seen, fail=True))
    assert not failing.ok
    assert "refusing to change without a backup" in failing.errors[urn]
    assert h.state.resources[urn].inputs["value"] == 2, "a failed before_update hook blocks the update"
    assert not h.events.find(kind="op", name="update", phase="start", run=failing.number)

    seen.clear()
    removal = h.up(_program(3, seen, present=False)).raise_for_errors()
    assert removal.ops[urn] == "delete"
    assert [k for k, _ in seen] == ["before_delete"]
    assert seen[0][1].old_outputs is not None and seen[0][1].new_inputs is None
    assert urn not in h.state.resources


def test_destroy_runs_delete_hooks_only_with_the_program(harness: Callable[..., Any]) -> None:
    seen: list[tuple[str, ResourceHookArgs]] = []
    h = harness()
    h.up(_program(1, seen)).raise_for_errors()

    destroyed = h.destroy(_program(1, seen), run_program=True).raise_for_errors()

    assert [k for k, _ in seen] == ["before_delete"]
    assert h.state.resources == {}
    assert destroyed.ops and set(destroyed.ops.values()) == {"delete"}

    seen.clear()
    h.up(_program(1, seen)).raise_for_errors()
    # Since Pulumi 3.182 (pulumi/pulumi#19933) a plain destroy of a stack with delete hooks is
    # refused before anything is deleted.
    refused = h.destroy()
    assert not refused.ok and "--run-program" in refused.error_text()
    assert seen == [] and h.state.resources
