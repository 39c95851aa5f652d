"""Guarantees about secrets and exposure:

* no credential value from the provider's environment reaches state, outputs, `__provider` (decoded),
  any gRPC response or error, the engine's log messages or the provider's stdout/stderr, across a
  full preview / up / update / refresh / destroy and failure paths;
* the provider never logs credentials or request signatures; AWS errors carry the AWS request ID;
* the emulator listens on loopback only by default.
"""

from __future__ import annotations

import re
import secrets
import socket
from typing import Any, Callable

import pulumi
import pulumi_aws as aws
import pytest
from reliability_helpers import (
    BACKUP_TYPE,
    AnswerLog,
    decoded_provider_blobs,
    everything_the_engine_saw,
    find_needles,
    make_target,
    provider_values,
    single_program,
)

from fsx_backup_component import FsxBackup
from fsx_backup_component.testing import FsxEmulator
from tests.harness.records import iter_strings

SIGNATURE_MARKERS = {"SigV4 signature": "Signature=", "SigV4 credential scope": "Credential=", "auth header": "AWS4-HMAC-SHA256"}
REQUEST_ID_RE = re.compile(r"\(AWS request ID: [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\)")


def _needles(h: Any) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": h.credentials["access_key"],
        "AWS_SECRET_ACCESS_KEY": h.credentials["secret_key"],
        "AWS_SESSION_TOKEN": h.credentials["session_token"],
    }


def test_no_credential_value_ever_reaches_state_outputs_logs_or_responses(
    recorded: tuple[FsxEmulator, AnswerLog], harness: Callable[..., Any], ledger: Any
) -> None:
    emu, answers = recorded
    target = make_target(emu, "lustre")
    h = harness(emulator=emu)
    v1 = single_program("nightly", tags={"team": "data"}, copy_to_regions=["us-west-2"], **target)
    v2 = single_program("nightly", tags={"team": "ops"}, copy_to_regions=["us-west-2"], **target)

    h.preview(v1).raise_for_errors()
    h.up(v1).raise_for_errors()
    h.up(v2).raise_for_errors()  # update: TagResource / UntagResource
    h.refresh().raise_for_errors()
    # failure paths: a FAILED backup (replacement), then an AWS error with a request ID
    emu.fail_next_backup("emulated failure", file_system_id=target["file_system_id"])
    failed = h.up(single_program("nightly", tags={"team": "ops"}, triggers={"v": 2}, **target))
    assert not failed.ok
    emu.backup_quota = 0
    refused = h.up(single_program("nightly", tags={"team": "ops"}, triggers={"v": 3}, **target))
    assert not refused.ok and "TOTAL_USER_INITIATED_BACKUPS" in refused.error_text()
    emu.backup_quota = 500
    h.destroy().raise_for_errors()

    # The scan means something: the provider ran with these values, it made signed requests,
    # `__provider` was there and decoded, a planted value is found.
    needles = _needles(h)
    assert h.providers and all(p.env["AWS_SECRET_ACCESS_KEY"] == needles["AWS_SECRET_ACCESS_KEY"] for p in h.providers)
    assert all(p.env["AWS_SESSION_TOKEN"] == needles["AWS_SESSION_TOKEN"] for p in h.providers)
    assert len(answers.answers) > 10 and emu.calls["CopyBackup"] >= 1
    blobs = decoded_provider_blobs(provider_values(h))
    assert any(b"fsx_backup_component.provider" in blob for blob in blobs)
    assert blobs and all(
        b"fsx_backup_component.provider" in blob or b"fsx_backup_component.life" in blob for blob in blobs
    )
    assert h.logs, "progress messages reached the fake engine and are scanned"
    haystacks = everything_the_engine_saw(h)
    assert find_needles({"planted": [f"x{needles['AWS_SESSION_TOKEN']}x"]}, needles) == ["planted: AWS_SESSION_TOKEN"]

    leaks = find_needles(haystacks, needles)

    assert leaks == [], f"credential values found in: {leaks}"
    shown_to_user = {k: v for k, v in haystacks.items() if k != "grpc requests"}
    assert find_needles(shown_to_user, SIGNATURE_MARKERS) == [], "request signatures reached the user"
    ledger.record(
        "no-credentials",
        runs=len(h.runs),
        rpcs=len(h.rpc_log),
        places=sorted(haystacks),
        scanned_items=sum(len(v) for v in haystacks.values()),
    )


def test_aws_errors_carry_the_request_id_and_no_signature(
    recorded: tuple[FsxEmulator, AnswerLog], harness: Callable[..., Any], ledger: Any
) -> None:
    """A non-retryable AWS error (the file system turned MISCONFIGURED between preview and
    CreateBackup: BadRequest) surfaces with its code, AWS's message and the request ID."""
    emu, answers = recorded
    target = make_target(emu, "windows")
    fs = target["file_system_id"]
    answers.before("CreateBackup", lambda: emu.update_file_system(fs, lifecycle="MISCONFIGURED"))
    h = harness(single_program("late", **target), emulator=emu)

    up = h.up()

    assert not up.ok
    message = up.errors[up.urn("late", BACKUP_TYPE)]
    assert [a.code for a in answers.of("CreateBackup")] == ["BadRequest"]
    assert "BadRequest" in message and "MISCONFIGURED" in message and fs in message, message
    assert REQUEST_ID_RE.search(message), f"no AWS request ID in {message!r}"
    everything = everything_the_engine_saw(h)
    shown_to_user = {k: v for k, v in everything.items() if k != "grpc requests"}
    assert find_needles(shown_to_user, {**SIGNATURE_MARKERS, **_needles(h)}) == []
    ledger.record("request-ids", cases=2)


def test_emulator_listens_on_loopback_only_by_default() -> None:
    with FsxEmulator(port=0) as emu:
        assert emu._server is not None  # noqa: SLF001 - the bound address itself is the point
        host, port = emu._server.address  # noqa: SLF001
        assert host == "127.0.0.1" and emu.endpoint_url == f"http://127.0.0.1:{port}"
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass  # reachable on loopback
        external = _non_loopback_ipv4()
        if external is None:
            pytest.skip("this machine has no non-loopback IPv4 address to try the emulator's port on")
        with pytest.raises(OSError):
            socket.create_connection((external, port), timeout=2).close()


def _non_loopback_ipv4() -> str | None:
    """An IPv4 address of this machine that is not loopback, if there is one (no traffic sent: a
    UDP connect only picks the outgoing interface; then the host's own names)."""
    candidates: list[str] = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        candidates.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        candidates += [str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        if not address.startswith("127.") and address != "0.0.0.0":
            return str(address)
    return None


OWNER = "222222222222"
ROLE = f"arn:aws:iam::{OWNER}:role/fsx-backup"


def test_no_credential_of_a_profile_an_assumed_role_or_a_refused_provider_reaches_anything(
    emu: FsxEmulator, harness: Callable[..., Any], tmp_path: Any, ledger: Any
) -> None:
    """The paths that follow an AWS provider: a profile read from a credentials file (with a copy
    in another region), a role assumed in another account (temporary keys issued by STS), and a
    provider with static keys (refused). None of those values may surface, anywhere."""
    profile_key, profile_secret = "AKIAPROFILELEAKTEST1", f"profile-secret-{secrets.token_hex(12)}"
    static_key, static_secret = "AKIASTATICLEAKTEST01", f"static-secret-{secrets.token_hex(12)}"
    emu.add_account(OWNER, [profile_key])
    emu.add_role(ROLE, trusted_accounts=["123456789012"])
    by_profile = emu.add_file_system("LUSTRE", region="us-west-2", account_id=OWNER)
    by_role = emu.add_file_system("OPENZFS", region="eu-west-1", account_id=OWNER)
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[prod]\naws_access_key_id = {profile_key}\naws_secret_access_key = {profile_secret}\n")

    def program(team: str) -> Callable[[], None]:
        def body() -> None:
            prod = aws.Provider("prod", region="us-west-2", profile="prod")
            fs = aws.fsx.LustreFileSystem.get("p", by_profile, opts=pulumi.ResourceOptions(provider=prod))
            FsxBackup("by-profile", file_system=fs, tags={"team": team}, copy_to_regions=["us-east-2"])
            FsxBackup("by-role", file_system_id=by_role, region="eu-west-1", tags={"team": team},
                      assume_roles=[{"role_arn": ROLE, "session_name": "leak-test"}])

        return body

    h = harness(env={"AWS_SHARED_CREDENTIALS_FILE": str(credentials)})
    h.preview(program("data")).raise_for_errors()
    h.up(program("data")).raise_for_errors()
    h.up(program("ops")).raise_for_errors()
    h.refresh().raise_for_errors()
    h.destroy(program("ops")).raise_for_errors()

    def keyed() -> None:
        provider = aws.Provider("keyed", region="us-west-2", access_key=static_key, secret_key=static_secret)
        fs = aws.fsx.LustreFileSystem.get("k", by_profile, opts=pulumi.ResourceOptions(provider=provider))
        FsxBackup("keyed", file_system=fs)

    refused = harness()
    assert not refused.preview(keyed).ok and not refused.up(keyed).ok

    # The scan means something: the profile's key signed FSx calls, STS issued temporary keys that
    # signed others, and the refused stack registered its provider with the static keys.
    issued = [emu.session(k) for k in set(emu.access_keys) if k and k.startswith("ASIA")]
    assert issued and all(s is not None for s in issued)
    assert profile_key in emu.access_keys and emu.calls["CopyBackup"] >= 1
    needles = {
        **_needles(h),
        **_needles(refused),
        "profile access key": profile_key,
        "profile secret": profile_secret,
        "static access key": static_key,
        "static secret": static_secret,
    }
    for n, session in enumerate(s for s in issued if s is not None):
        needles |= {f"STS key {n}": session.access_key, f"STS secret {n}": session.secret_key,
                    f"STS token {n}": session.token}
    leaks = find_needles(everything_the_engine_saw(h), needles)
    # pulumi-aws keeps a provider's own keys in *its* state, as secrets (the engine encrypts them):
    # not this component's doing, so the refused stack's provider resources are left out of "state".
    seen = everything_the_engine_saw(refused)
    seen["state"] = [
        text
        for res in refused.state.resources.values() if not res.type.startswith("pulumi:providers:")
        for text in list(iter_strings(res.inputs)) + list(iter_strings(res.outputs))
    ]
    leaks += [f"refused stack, {leak}" for leak in find_needles(seen, needles)]
    assert leaks == [], f"credential values found in: {leaks}"
    assert h.plaintext_secrets() == [] and refused.plaintext_secrets() == []
    ledger.record("no-credentials-followed-providers", runs=len(h.runs) + len(refused.runs), sessions=len(issued))
