"""fsx.client_for with AWS settings, against the emulator's FSx and STS: a profile from given shared
files, a role assumed (and re-assumed when its credentials expire), a chain of roles, and STS's
refusals as CredentialsError naming the role."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any, Iterator

import pytest

from fsx_backup_component import fsx
from fsx_backup_component.connection import AwsSettings, RoleToAssume
from fsx_backup_component.errors import CredentialsError
from fsx_backup_component.testing import FsxEmulator
from fsx_backup_component.testing.emulator import ManualClock

HOME = "111111111111"  # the caller's account (the environment's keys)
OWNER = "222222222222"  # owns the file system
HOME_KEY = "AKIAHOMEACCOUNT00001"
OWNER_KEY = "AKIAOWNERACCOUNT0001"
ROLE = f"arn:aws:iam::{OWNER}:role/fsx-backup"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock: ManualClock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FsxEmulator]:
    # STS's expiry times are on the emulator's clock: botocore decides when to refresh on the same.
    monkeypatch.setattr(fsx, "CREDENTIALS_CLOCK", lambda: datetime.datetime.fromtimestamp(clock.now(), datetime.timezone.utc))
    with FsxEmulator(port=0, clock=clock) as emulator:
        emulator.add_account(HOME, [HOME_KEY])
        emulator.add_account(OWNER, [OWNER_KEY])
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_REGION"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("AWS_ENDPOINT_URL_FSX", emulator.endpoint_url)
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", emulator.endpoint_url)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", HOME_KEY)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "home-secret")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none-config"))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none-credentials"))
        yield emulator


def owned_file_system(emu: FsxEmulator) -> str:
    return emu.add_file_system("LUSTRE", region="us-west-2", account_id=OWNER)


def describe(client: Any, fs_id: str) -> Any:
    return fsx.describe_file_systems(client, [fs_id])[fs_id]


def fsx_requests(emu: FsxEmulator) -> list[Any]:
    return [r for r in emu.requests if r.service == "fsx"]


def test_default_credentials_do_not_see_another_accounts_file_system(emu: FsxEmulator) -> None:
    fs_id = owned_file_system(emu)
    assert describe(fsx.client_for("us-west-2"), fs_id) is None


def test_a_profile_from_given_shared_files(emu: FsxEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # botocore's env beats the profile's region
    fs_id = owned_file_system(emu)
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[prod]\naws_access_key_id = {OWNER_KEY}\naws_secret_access_key = owner-secret\n")
    config = tmp_path / "config"
    config.write_text("[profile prod]\nregion = us-west-2\n")
    settings = AwsSettings(profile="prod", shared_config_file=str(config), shared_credentials_file=str(credentials))

    assert fsx.default_region(settings) == "us-west-2"  # the profile's region
    found = describe(fsx.client_for("us-west-2", settings), fs_id)
    assert found is not None and found["OwnerId"] == OWNER
    assert fsx_requests(emu)[-1].access_key == OWNER_KEY


def test_an_undefined_profile_says_which_files_were_read(emu: FsxEmulator, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="profile 'nope' is not defined in .*none-config"):
        fsx.client_for("us-west-2", AwsSettings(profile="nope"))


def test_an_assumed_role_acts_in_its_account_and_refreshes_before_expiry(emu: FsxEmulator, clock: ManualClock) -> None:
    emu.add_role(ROLE, trusted_accounts=[HOME])
    fs_id = owned_file_system(emu)
    settings = AwsSettings(assume_roles=(RoleToAssume(ROLE, duration_seconds=900),))

    client = fsx.client_for("us-west-2", settings)
    assert describe(client, fs_id) is not None
    assert emu.calls["AssumeRole"] == 1
    temporary = fsx_requests(emu)[-1].access_key
    assert temporary is not None and temporary.startswith("ASIA") and fsx_requests(emu)[-1].account == OWNER

    clock.advance(901)  # past the session's end: botocore refreshes through STS, not an expired key
    assert describe(client, fs_id) is not None
    assert emu.calls["AssumeRole"] == 2
    assert fsx_requests(emu)[-1].access_key != temporary
    assert not [r for r in emu.requests if r.refused]


def test_one_role_per_settings_is_shared_by_every_region(emu: FsxEmulator) -> None:
    emu.add_role(ROLE, trusted_accounts=[HOME])
    settings = AwsSettings(assume_roles=(RoleToAssume(ROLE),))
    fsx.client_for("us-west-2", settings)
    fsx.client_for("eu-west-1", settings)
    assert emu.calls["AssumeRole"] == 1


def test_a_chain_of_roles_ends_in_the_last_roles_account(emu: FsxEmulator) -> None:
    hop = "arn:aws:iam::333333333333:role/hop"
    emu.add_role(hop, trusted_accounts=[HOME])
    emu.add_role(ROLE, trusted_accounts=["333333333333"], external_id="ext-42")
    fs_id = owned_file_system(emu)
    settings = AwsSettings(assume_roles=(RoleToAssume(hop), RoleToAssume(ROLE, external_id="ext-42", session_name="deploy")))
    assert describe(fsx.client_for("us-west-2", settings), fs_id) is not None
    assume = [r for r in emu.requests if r.operation == "AssumeRole"]
    assert [r.account for r in assume] == [HOME, "333333333333"]
    assert assume[1].params.get("RoleSessionName") == "deploy"


@pytest.mark.parametrize("role_kwargs,given", [
    ({"trusted_accounts": ["999999999999"]}, RoleToAssume(ROLE)),
    ({"trusted_accounts": [HOME], "external_id": "right"}, RoleToAssume(ROLE, external_id="wrong")),
    (None, RoleToAssume(ROLE)),  # no such role: STS answers AccessDenied too
])
def test_a_refused_role_is_a_credentials_error_with_stss_reason(
    emu: FsxEmulator, role_kwargs: Any, given: RoleToAssume
) -> None:
    if role_kwargs is not None:
        emu.add_role(ROLE, **role_kwargs)
    with pytest.raises(CredentialsError) as caught:
        fsx.client_for("us-west-2", AwsSettings(assume_roles=(given,)))
    err = caught.value
    assert err.role_arn == ROLE and err.code == "AccessDenied"
    assert f"could not assume {ROLE}: AccessDenied: User: arn:aws:iam::{HOME}:" in str(err)
    assert "sts:AssumeRole" in str(err)
    # Nothing is cached: a fixed trust policy works on the next try.
    emu.add_role(ROLE, trusted_accounts=[HOME], external_id=given.external_id)
    assert fsx.client_for("us-west-2", AwsSettings(assume_roles=(given,))) is not None
