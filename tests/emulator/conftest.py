"""Fixtures for the emulator's own tests: a ManualClock-driven emulator, boto3 clients per region,
and a response checker attached to every client so each response any test receives is verified
against botocore's output/error shapes (the emulator cannot drift from the model unnoticed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from fsx_emu_helpers import BACKUP_SECONDS, COPY_SECONDS  # noqa: E402

from fsx_backup_component.testing import FsxEmulator, ManualClock

# pytest only honours `pytest_plugins` in the rootdir conftest; this directory's conftest is not
# one, so the plugin's fixtures are imported instead (same fixtures, same names).
from fsx_backup_component.testing.pytest_plugin import (  # noqa: E402,F401
    fsx_client,
    fsx_emulator,
    fsx_emulator_options,
    fsx_endpoint_env,
)
from fsx_backup_component.testing.validation import check_output


class ResponseChecker:
    """Collects model-conformance problems of every response seen by the test's clients."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.seen: list[tuple[str, int]] = []

    def __call__(self, http_response: Any, model: Any, **_: Any) -> None:
        status = http_response.status_code
        self.seen.append((model.name, status))
        if "x-amzn-requestid" not in {k.lower() for k in http_response.headers}:
            self.problems.append(f"{model.name}: no x-amzn-RequestId header")
        body = json.loads(http_response.content or b"{}")
        if status == 200:
            if model.output_shape is not None:
                self.problems += check_output(model.output_shape, body, model.name)
            return
        self.problems += check_error_body(model, body, status)


def check_error_body(model: Any, body: dict[str, Any], status: int) -> list[str]:
    code = str(body.get("__type"))
    # The front end's own refusals (not in the FSx model): all HTTP 400, lowercase ``message`` for the
    # signature ones (as AWS's JSON front end sends them).
    generic = {"ThrottlingException", "UnknownOperationException", "SerializationException"}
    signature = {"MissingAuthenticationTokenException", "IncompleteSignatureException", "InvalidSignatureException",
                 # temporary credentials without their session token / expired ("Accounts and STS")
                 "UnrecognizedClientException", "ExpiredTokenException"}
    if code in generic | signature:
        problems = [] if status == 400 else [f"{code} must be HTTP 400, got {status}"]
        if code in signature and set(body) != {"__type", "message"}:
            problems.append(f"{code}: body must be {{__type, message}}, got {sorted(body)}")
        return problems
    modeled = {shape.name: shape for shape in model.error_shapes}
    if code not in modeled:
        return [f"{model.name}: error {code!r} is not modeled for this operation"]
    expected = 500 if code == "InternalServerError" else 400
    problems = [] if status == expected else [f"{code}: HTTP {status}, expected {expected}"]
    members = {k: v for k, v in body.items() if k != "__type"}
    return problems + check_output(modeled[code], members, code)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def checker() -> Iterator[ResponseChecker]:
    checker = ResponseChecker()
    yield checker
    assert checker.problems == [], "responses drifted from the botocore model"


@pytest.fixture
def emu(clock: ManualClock) -> Iterator[FsxEmulator]:
    with FsxEmulator(clock=clock, backup_seconds=BACKUP_SECONDS, copy_seconds=COPY_SECONDS) as emulator:
        yield emulator


ClientFactory = Callable[..., Any]


@pytest.fixture
def make_client(emu: FsxEmulator, checker: ResponseChecker) -> ClientFactory:
    """make_client(region="us-east-1", validate=True, retries=0) -> boto3 FSx client.

    retries=0 (total_max_attempts=1) by default so a test sees exactly the server's answer;
    validate=False turns off botocore's client-side min/required checks to reach the server's.
    """

    def factory(region: str = "us-east-1", validate: bool = True, retries: int = 0) -> Any:
        config = Config(
            parameter_validation=validate,
            retries={"mode": "standard", "total_max_attempts": retries + 1},
        )
        client = boto3.client(
            "fsx",
            region_name=region,
            endpoint_url=emu.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )
        client.meta.events.register("after-call.fsx", checker)
        client.meta.events.register("after-call-error.fsx", lambda **kw: None)
        return client

    return factory


@pytest.fixture
def client(make_client: ClientFactory) -> Any:
    return make_client()


@pytest.fixture
def raw_client(make_client: ClientFactory) -> Any:
    """No client-side validation: what the server says about bad input."""
    return make_client(validate=False)


