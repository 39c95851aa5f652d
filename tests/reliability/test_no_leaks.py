"""Guarantees about secrets and exposure:

* no credential value from the provider's environment reaches state, outputs, `__provider` (decoded),
  any gRPC response or error, the engine's log messages or the provider's stdout/stderr, across a
  full preview / up / update / refresh / destroy and failure paths;
* the provider never logs credentials or request signatures; AWS errors carry the AWS request ID;
* the emulator listens on loopback only by default.
"""

from __future__ import annotations

import re
import socket
from typing import Any, Callable

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

from fsx_backup_component.testing import FsxEmulator

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
