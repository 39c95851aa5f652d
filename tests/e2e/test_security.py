"""No credential value from the provider's environment reaches any gRPC response, output, state,
`__provider` (decoded), progress message or provider output."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Callable, Iterable

from e2e_helpers import backup_program, make_target

from tests.harness.records import iter_strings


def _provider_blobs(values: Iterable[str]) -> list[bytes]:
    """`__provider` values are base64 (dill); decode them so a pickled secret cannot hide."""
    blobs = []
    for value in values:
        if not value:
            continue
        try:
            blobs.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    return blobs


def _leaks(harness: Any, haystacks: Iterable[str | bytes]) -> list[str]:
    secrets = harness.credentials.values()
    found = []
    for hay in haystacks:
        text = hay.decode("latin-1") if isinstance(hay, bytes) else hay
        found += [s[:8] + "..." for s in secrets if s in text]
    return found


def _everything(h: Any) -> list[str | bytes]:
    hay: list[str | bytes] = []
    for record in h.rpc_log:
        hay.append(record.raw_response)
        hay += list(iter_strings(record.response or {}))
        hay += list(iter_strings(record.request))  # state goes back to the provider in requests
        hay.append(record.error or "")
    for run in h.runs:
        hay += list(iter_strings(run.outputs)) + list(iter_strings(run.stack_outputs))
        hay += list(iter_strings(run.errors))
    for res in h.state.resources.values():
        hay += list(iter_strings(res.inputs)) + list(iter_strings(res.outputs))
    providers = [
        v for r in h.rpc_log for v in iter_strings((r.response or {}).get("properties", {}).get("__provider", ""))
    ]
    providers += [v for res in h.state.resources.values() for v in iter_strings(res.outputs.get("__provider", ""))]
    hay += _provider_blobs(providers)
    hay += [record.message for record in h.logs]
    hay.append(h.provider_output())
    return hay


def test_no_credential_value_leaks(emu: Any, harness: Callable[..., Any]) -> None:
    target = make_target(emu, "lustre-persistent2")
    h = harness()
    h.preview(backup_program("nightly", tags={"team": "data"}, **target)).raise_for_errors()
    h.up(backup_program("nightly", tags={"team": "data"}, **target)).raise_for_errors()
    h.up(backup_program("nightly", tags={"team": "ops"}, **target)).raise_for_errors()
    h.refresh().raise_for_errors()
    emu.fail_next_backup(message="emulated failure")
    h.up(backup_program("nightly", tags={"team": "ops"}, triggers=["2"], **target))  # fails: error text scanned too
    h.destroy().raise_for_errors()

    haystacks = _everything(h)

    # the scan is meaningful: the provider really ran with these credentials, `__provider` decoded
    assert h.providers and all(h_.env["AWS_SECRET_ACCESS_KEY"] == h.credentials["secret_key"] for h_ in h.providers)
    decoded = _provider_blobs(
        [v for r in h.rpc_log for v in iter_strings((r.response or {}).get("properties", {}).get("__provider", ""))]
    )
    assert any(b"fsx_backup_component.provider" in blob for blob in decoded)
    assert decoded and all(
        b"fsx_backup_component.provider" in blob or b"fsx_backup_component.life" in blob for blob in decoded
    )
    assert _leaks(h, [f"x{h.credentials['session_token']}x"]), "the scanner finds a planted value"
    assert _leaks(h, haystacks) == []
