"""Tiny dynamic providers for the harness's own tests (tests/e2e/test_engine_rules.py).

They live in an importable module (``tests.harness.toys``): dill pickles the provider class by
reference, so the provider process imports this module; the harness must run it with the repository
root importable (``Harness(cwd=ROOT)``).
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    ReadResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)
from pulumi.output import Unknown

_SIG_KEY = "4dabf18193072939515e22adb298388d"


def _has_wrapper(value: Any) -> bool:
    if isinstance(value, dict):
        return _SIG_KEY in value or any(_has_wrapper(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_wrapper(v) for v in value)
    return False


def _outputs(props: dict[str, Any]) -> dict[str, Any]:
    """Inputs echoed, plus ``copy_as`` ({new name: input name}) copies and ``embed`` (an input whose
    value is quoted inside a new ``sentence`` output), plus what the provider received."""
    outs = {k: v for k, v in props.items() if k != "__provider"}
    for new, source in (props.get("copy_as") or {}).items():
        outs[new] = props.get(source)
    if props.get("embed"):
        outs["sentence"] = f"the value is <{props.get(props['embed'])}>"
    outs["received_secret_wrappers"] = _has_wrapper(props)
    return outs


class EchoProvider(ResourceProvider):
    """Echoes its inputs (see ``_outputs``); diff: the engine's (DIFF_UNKNOWN)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=f"echo-{props.get('label', 'x')}", outs=_outputs(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_outputs(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs={k: v for k, v in props.items() if k != "__provider"})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Echo(Resource, module="toys", name="Echo"):
    """``Echo(name, {"label": ..., "password": pulumi.Output.secret(...), "copy_as": {...}},
    outputs=["copy", "sentence"])``: ``outputs`` names outputs the program wants to read."""

    def __init__(
        self,
        name: str,
        props: dict[str, Any],
        opts: Optional[pulumi.ResourceOptions] = None,
        outputs: tuple[str, ...] = (),
    ) -> None:
        full = {**{k: None for k in outputs}, **props}
        super().__init__(EchoProvider(), name, full, opts)


class KnownTargetProvider(EchoProvider):
    """Check refuses an unknown ``target`` (a provider that needs a value at preview)."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        if isinstance(news.get("target"), Unknown):
            return CheckResult(news, [CheckFailure("target", "target must be known at preview")])
        return CheckResult(news, [])


class KnownTarget(Resource, module="toys", name="KnownTarget"):
    def __init__(self, name: str, target: Any, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(KnownTargetProvider(), name, {"label": name, "target": target}, opts)


class SecretsComponent(pulumi.ComponentResource):
    """A component that registers one secret and one plain output."""

    def __init__(self, name: str, secret_value: str, plain_value: str) -> None:
        super().__init__("toys:index:SecretsComponent", name)
        self.register_outputs({"pw": pulumi.Output.secret(secret_value), "plain": plain_value})
