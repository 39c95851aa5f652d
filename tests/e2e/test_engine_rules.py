"""The engine harness is at least as strict as the real Pulumi engine (issue 14, part B):

* the secret rule for a provider that answers Configure with acceptSecrets=false (the Python dynamic
  host): plain values to the provider, same-name re-annotation, additional_secret_outputs, and a scan
  of the stored state for secrets in plain text;
* a preview pass before every `up` (unless skip_preview), whose failure fails the `up`;
* a plain `destroy` refused when delete hooks exist (pulumi/pulumi#19933); hooks with on_dry_run run
  at preview; delete hooks run for retained resources too;
* `.get()` reads done at preview;
* customTimeouts sent as the engine sends them, and not enforced for dynamic resources.

Toy dynamic providers live in tests/harness/toys.py (run through the real `python -m pulumi.dynamic`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pulumi
import pulumi_aws as aws
from e2e_helpers import BACKUP_TYPE
from pulumi.resource_hooks import (
    ResourceHook,
    ResourceHookArgs,
    ResourceHookBinding,
    ResourceHookOptions,
)
from pulumi.runtime import rpc

from fsx_backup_component import FsxBackup
from tests.harness import DESTROY_NEEDS_RUN_PROGRAM
from tests.harness.properties import SECRET_SIG, SIG_KEY, is_secret, plain, secret
from tests.harness.toys import Echo, KnownTarget, SecretsComponent

ROOT = Path(__file__).resolve().parents[2]
ECHO = "pulumi-python:dynamic/toys:Echo"
PASSWORD = "s3cr3t-pa55word-7781"


def _toy_harness(harness: Callable[..., Any], **kwargs: Any) -> Any:
    kwargs.setdefault("cwd", ROOT)  # the provider process imports tests.harness.toys
    return harness(**kwargs)


def _leaky_program(guard: bool, password: str = PASSWORD) -> Callable[[], None]:
    def program() -> None:
        opts = pulumi.ResourceOptions(additional_secret_outputs=["copy", "sentence"]) if guard else None
        echo = Echo(
            "echo",
            {"label": "echo", "password": pulumi.Output.secret(password), "copy_as": {"copy": "password"},
             "embed": "password"},
            opts,
            outputs=("copy", "sentence"),
        )
        pulumi.export("password", echo.password)  # type: ignore[attr-defined]
        pulumi.export("copy", echo.copy)  # type: ignore[attr-defined]

    return program


# ---------------------------------------------------------------------------------------------
# 1. the secret rule


def test_secret_inputs_reach_the_provider_plain_and_only_same_name_outputs_stay_secret(
    harness: Callable[..., Any],
) -> None:
    h = _toy_harness(harness)
    up = h.up(_leaky_program(guard=False)).raise_for_errors()
    urn = up.urn("echo", ECHO)

    # acceptSecrets=false: the provider got plain values, on the wire and in its arguments
    (create,) = up.rpcs("Create")
    assert SIG_KEY not in json.dumps(create.request)
    state = h.state.resources[urn]
    assert state.outputs["received_secret_wrappers"] is False
    configure = up.rpcs("Configure")[0]
    assert not (configure.response or {}).get("acceptSecrets")

    # stored: same-name outputs secret (password, __provider); copies under new names plain
    assert is_secret(state.inputs["password"]) and is_secret(state.outputs["password"])
    assert is_secret(state.outputs["__provider"])
    assert state.outputs["copy"] == PASSWORD and state.outputs["sentence"] == f"the value is <{PASSWORD}>"
    # handed back to the program with that secretness (its exports keep it)
    assert is_secret(h.state.outputs["password"]) and h.state.outputs["copy"] == PASSWORD

    # the scan finds every plain copy: equal, inside a longer string, in the stack outputs
    leaks = {(f.urn, f.section, f.path) for f in h.plaintext_secrets()}
    assert leaks == {
        (urn, "outputs", "copy"), (urn, "outputs", "sentence"), ("<stack outputs>", "outputs", "copy"),
    }, h.plaintext_secrets()

    # refresh (Read) keeps the secretness of the old state's same-named keys
    h.refresh().raise_for_errors()
    assert is_secret(h.state.resources[urn].outputs["password"])


def test_additional_secret_outputs_keep_the_state_clean(harness: Callable[..., Any]) -> None:
    h = _toy_harness(harness)
    up = h.up(_leaky_program(guard=True)).raise_for_errors()
    state = h.state.resources[up.urn("echo", ECHO)]

    assert is_secret(state.outputs["copy"]) and is_secret(state.outputs["sentence"])
    assert is_secret(h.state.outputs["copy"]), "the program saw `copy` as a secret"
    assert h.plaintext_secrets() == []
    assert plain(state.outputs["copy"]) == PASSWORD

    # an update (new inputs) applies the same rules
    h.up(_leaky_program(guard=True, password=PASSWORD + "-2")).raise_for_errors()
    assert h.plaintext_secrets() == []


def test_nested_secrets_follow_annotate_secrets(harness: Callable[..., Any]) -> None:
    token = "tok-9a8b7c6d5e"

    def program() -> None:
        Echo(
            "nested",
            {"label": "nested", "settings": {"user": "alice", "token": pulumi.Output.secret(token)},
             "items": ["first", pulumi.Output.secret("item-secret-42")], "copy_as": {"settings_copy": "settings"}},
        )

    h = _toy_harness(harness)
    up = h.up(program).raise_for_errors()
    state = h.state.resources[up.urn("nested", ECHO)]

    # both objects: recursive (only the token); a list holding a secret: the whole list
    assert state.outputs["settings"] == {"user": "alice", "token": secret(token)}
    assert is_secret(state.outputs["items"]) and plain(state.outputs["items"]) == ["first", "item-secret-42"]
    # stored inputs are Check's answer, re-annotated the same way (annotateSecrets(inputs, req.News))
    assert is_secret(state.inputs["items"]) and state.inputs["settings"]["token"] == secret(token)
    paths = [f.path for f in h.plaintext_secrets()]
    assert paths == ["settings_copy.token"], h.plaintext_secrets()


def test_component_outputs_and_secret_config(harness: Callable[..., Any]) -> None:
    def program() -> None:
        SecretsComponent("comp", secret_value="component-secret-555", plain_value="visible")
        config = pulumi.Config()
        Echo("from-config", {"label": "cfg", "safe": config.require_secret("dbpass"), "unsafe": config.require("dbpass")})

    h = _toy_harness(harness, config={"dbpass": "cfg-secret-3141"}, secret_config_keys=["dbpass"])
    up = h.up(program).raise_for_errors()

    comp = h.state.resources[up.urn("comp", "toys:index:SecretsComponent")]
    assert is_secret(comp.outputs["pw"]) and comp.outputs["plain"] == "visible"
    assert up.outputs[comp.urn] == {"pw": "component-secret-555", "plain": "visible"}, "RunResult: plain values"
    # a secret config value read with require() is plain in the program: the scan sees it
    echo = up.urn("from-config", ECHO)
    assert {(f.urn, f.section, f.path) for f in h.plaintext_secrets()} == {
        (echo, "inputs", "unsafe"), (echo, "outputs", "unsafe"),
    }
    # Configure gets the stack config with secret config values as secrets
    args = up.rpcs("Configure")[0].request["args"]
    assert args["fsx-backup-test:dbpass"] == {SIG_KEY: SECRET_SIG, "value": "cfg-secret-3141"}


# ---------------------------------------------------------------------------------------------
# 2. a preview pass before every up


def _chain(skip_check: bool = False) -> Callable[[], None]:
    def program() -> None:
        first = Echo("first", {"label": "first", "password": "p", "copy_as": {"copy": "password"}}, outputs=("copy",))
        if not skip_check:
            KnownTarget("second", first.copy)  # type: ignore[attr-defined]
        Echo("third", {"label": "third", "source": first.copy}, outputs=("source",))  # type: ignore[attr-defined]

    return program


def test_up_runs_a_preview_pass_first(harness: Callable[..., Any]) -> None:
    h = _toy_harness(harness)
    up = h.up(_chain(skip_check=True)).raise_for_errors()

    preview = up.preview_result
    assert preview is not None and preview.kind == "preview" and preview.number < up.number
    assert set(preview.methods()) == {"Configure", "Check"} and not preview.rpcs("Create")
    third_checks = [r for r in preview.rpcs("Check") if r.urn.endswith("::third")]
    assert third_checks and third_checks[0].request["news"]["source"] == rpc.UNKNOWN, "unknown at preview"
    assert up.kind == "up" and len(up.rpcs("Create")) == 2
    assert [r for r in up.rpcs("Check") if r.urn.endswith("::third")][0].request["news"]["source"] == "p"

    again = h.up(_chain(skip_check=True)).raise_for_errors()
    assert again.preview_result is not None and again.preview_result.rpcs("Diff"), "Diff runs in the preview"

    runs = len(h.runs)
    skipped = h.up(_chain(skip_check=True), skip_preview=True).raise_for_errors()
    assert skipped.preview_result is None and len(h.runs) == runs + 1


def test_a_failed_preview_fails_the_up_and_creates_nothing(harness: Callable[..., Any]) -> None:
    h = _toy_harness(harness)

    up = h.up(_chain())

    assert not up.ok and up.preview_result is not None
    assert "target must be known at preview" in up.error_text()
    assert not up.rpcs() and not up.ops and h.state.resources == {}
    # the same program deploys with --skip-preview (the check then sees known values)
    h.up(_chain(), skip_preview=True).raise_for_errors()
    assert len(h.state.of_type("pulumi-python:dynamic/toys")) == 3


# ---------------------------------------------------------------------------------------------
# 3. destroy and delete hooks


def _hooked(seen: list[str]) -> Callable[[], None]:
    def program() -> None:
        def hook(args: ResourceHookArgs) -> None:
            seen.append(args.name)

        guard = ResourceHook("guard-before-delete", hook)
        Echo("hooked", {"label": "hooked"}, pulumi.ResourceOptions(hooks=ResourceHookBinding(before_delete=[guard])))
        Echo("plain", {"label": "plain"})

    return program


def test_plain_destroy_is_refused_when_delete_hooks_exist(harness: Callable[..., Any]) -> None:
    seen: list[str] = []
    h = _toy_harness(harness)
    up = h.up(_hooked(seen)).raise_for_errors()
    hooked = up.urn("hooked", ECHO)

    refused = h.destroy()

    assert not refused.ok and refused.program_error == DESTROY_NEEDS_RUN_PROGRAM
    assert refused.errors == {
        hooked: "Resource has delete hooks registered, but the program is not running. Hooks: guard-before-delete"
    }
    assert not refused.rpcs("Delete") and len(h.state.resources) == 2 and seen == []

    h.destroy(_hooked(seen), run_program=True).raise_for_errors()
    assert h.state.resources == {} and seen == ["hooked"]


def _guarded(seen: list[tuple[str, str, bool]], label: str, fail: bool = False, **opts: Any) -> Callable[[], None]:
    def program() -> None:
        def record(name: str) -> Callable[[ResourceHookArgs], None]:
            def hook(args: ResourceHookArgs) -> None:
                seen.append((name, args.name, pulumi.runtime.is_dry_run()))
                if fail:
                    raise RuntimeError("the guard refuses")

            return hook

        dry = ResourceHook("dry", record("dry"), ResourceHookOptions(on_dry_run=True))
        wet = ResourceHook("wet", record("wet"))
        binding = ResourceHookBinding(before_update=[dry, wet], before_delete=[dry, wet])
        Echo("guarded", {"label": label}, pulumi.ResourceOptions(hooks=binding, **opts))

    return program


def test_hooks_with_on_dry_run_run_at_preview_and_can_fail_it(harness: Callable[..., Any]) -> None:
    seen: list[tuple[str, str, bool]] = []
    h = _toy_harness(harness)
    h.up(_guarded(seen, "a")).raise_for_errors()
    assert seen == [], "no update or delete yet"

    h.up(_guarded(seen, "b")).raise_for_errors()
    # the preview pass runs only `dry`; the update runs both
    assert seen == [("dry", "guarded", True), ("dry", "guarded", False), ("wet", "guarded", False)]

    seen.clear()
    refused = h.up(_guarded(seen, "c", fail=True))
    assert not refused.ok and "the guard refuses" in refused.error_text()
    assert seen == [("dry", "guarded", True)] and not refused.rpcs(), "the preview failed: no update"
    assert plain(h.state.resources[refused.preview_result.urn("guarded", ECHO)].inputs["label"]) == "b"


def test_delete_hooks_run_for_a_retained_resource(harness: Callable[..., Any]) -> None:
    seen: list[tuple[str, str, bool]] = []
    h = _toy_harness(harness)
    h.up(_guarded(seen, "a", retain_on_delete=True)).raise_for_errors()

    h.destroy(_guarded(seen, "a", retain_on_delete=True), run_program=True).raise_for_errors()

    # step.go DeleteStep.Apply runs the hooks before it looks at retain_on_delete
    assert seen == [("dry", "guarded", False), ("wet", "guarded", False)]
    assert h.state.resources == {}


# ---------------------------------------------------------------------------------------------
# 4. `.get()` reads at preview


def test_get_reads_are_done_at_preview(emu: Any, harness: Callable[..., Any]) -> None:
    fs_id = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")

    def program() -> None:
        fs = aws.fsx.LustreFileSystem.get("existing", fs_id)
        FsxBackup("nightly", file_system=fs)
        pulumi.export("deployment", fs.deployment_type)
        pulumi.export("fs_id", fs.id)

    h = harness()
    preview = h.preview(program).raise_for_errors()

    fs_urn = preview.urn("existing", "aws:fsx/lustreFileSystem")
    assert preview.ops[fs_urn] == "read"
    assert preview.stack_outputs == {"deployment": "PERSISTENT_2", "fs_id": fs_id}, "known at preview"
    (check,) = [r for r in preview.rpcs("Check") if r.urn.split("::")[2].endswith(BACKUP_TYPE)]
    assert fs_id in json.dumps(check.request["news"])

    h.up(program).raise_for_errors()
    assert h.state.resources[fs_urn].external
    h.destroy().raise_for_errors()
    assert emu._find_fs(fs_id), "a read resource is never deleted"

    missing = h.preview(lambda: aws.fsx.LustreFileSystem.get("gone", "fs-0000000000000dead"))
    assert "resource 'fs-0000000000000dead' does not exist" in missing.error_text()


def test_dynamic_get_reads_through_the_provider_at_preview(harness: Callable[..., Any]) -> None:
    def program() -> None:
        found = Echo("found", {"label": "found"}, pulumi.ResourceOptions(id="echo-found"))
        pulumi.export("label", found.label)  # type: ignore[attr-defined]

    h = _toy_harness(harness)
    preview = h.preview(program).raise_for_errors()
    assert [r.request["id"] for r in preview.rpcs("Read")] == ["echo-found"]
    assert preview.stack_outputs == {"label": "found"}


# ---------------------------------------------------------------------------------------------
# 5. customTimeouts


def _timed(label: str, timeouts: pulumi.CustomTimeouts) -> Callable[[], None]:
    def program() -> None:
        Echo("timed", {"label": label}, pulumi.ResourceOptions(custom_timeouts=timeouts))

    return program


def test_custom_timeouts_are_sent_and_not_enforced_for_dynamic_resources(harness: Callable[..., Any]) -> None:
    timeouts = pulumi.CustomTimeouts(create="1ns", update="2ns", delete="1m30s")
    h = _toy_harness(harness)

    up = h.up(_timed("a", timeouts)).raise_for_errors()  # a create takes far more than 1ns
    assert up.rpcs("Create")[0].request["timeout"] == 1e-9
    update = h.up(_timed("b", timeouts)).raise_for_errors()
    assert update.rpcs("Update")[0].request["timeout"] == 2e-9
    destroy = h.destroy().raise_for_errors()
    assert destroy.rpcs("Delete")[0].request["timeout"] == 90.0

    bad = _toy_harness(harness).up(_timed("c", pulumi.CustomTimeouts(create="1d")))
    assert "unable to parse customTimeout Value 1d" in bad.error_text()
