"""Following the target's AWS provider (another region, a named profile, a role in another account)
end to end: the real provider host against the emulator's FSx and STS, with `aws:region` and
AWS_REGION set to us-east-1 and the file systems elsewhere, so that the stack's defaults are wrong
every time and only the provider's settings can find the target."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Callable, Optional

import pulumi
import pulumi_aws as aws
import pytest
from e2e_helpers import user_backups, write_calls

from fsx_backup_component import FsxBackup, PreChangeBackup
from tests.harness import plain

HARNESS_ACCOUNT = "123456789012"  # the emulator's default account: the harness's own keys
OWNER = "222222222222"  # owns the file systems
OWNER_KEY = "AKIAOWNERPROFILE0001"
OWNER_SECRET = f"owner-secret-{secrets.token_hex(8)}"
ROLE = f"arn:aws:iam::{OWNER}:role/fsx-backup"
WEST = "us-west-2"


@pytest.fixture
def aws_files(tmp_path: Path) -> dict[str, Optional[str]]:
    """A user's ~/.aws: profile `prod` holds the owner account's keys and names us-west-2."""
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[prod]\naws_access_key_id = {OWNER_KEY}\naws_secret_access_key = {OWNER_SECRET}\n")
    config = tmp_path / "config"
    config.write_text(f"[profile prod]\nregion = {WEST}\n")
    return {"AWS_SHARED_CREDENTIALS_FILE": str(credentials), "AWS_CONFIG_FILE": str(config)}


@pytest.fixture
def owned_fs(emu: Any) -> str:
    emu.add_account(OWNER, [OWNER_KEY])
    return str(emu.add_file_system("LUSTRE", region=WEST, account_id=OWNER))


def fsx_calls(emu: Any, operation: str) -> list[Any]:
    return [r for r in emu.requests if r.service == "fsx" and r.operation == operation]


def move_to_account(emu: Any, fs_id: str, account: str) -> None:
    """Test-side: hand a file system the harness created (default account) to ``account``."""
    with emu._lock:
        state, fs = emu._find_fs(fs_id)
        del state.file_systems[fs_id]
        fs["OwnerId"] = account
        fs["ResourceARN"] = emu.arn(state.name, f"file-system/{fs_id}", account_id=account)
        emu._region(state.name, account).file_systems[fs_id] = fs


def owner_backups(emu: Any, region: str = WEST) -> list[dict[str, Any]]:
    return [b for b in emu.backups(region=region, account_id=OWNER) if b["Type"] == "USER_INITIATED"]


def read_with_provider(fs_id: str, **provider: Any) -> Callable[[], None]:
    def program() -> None:
        prod = aws.Provider("prod", **provider)
        fs = aws.fsx.LustreFileSystem.get("data", fs_id, opts=pulumi.ResourceOptions(provider=prod))
        backup = FsxBackup("bk", file_system=fs)
        pulumi.export("backup_arn", backup.backup_arn)

    return program


def test_a_target_read_with_an_explicit_provider_is_backed_up_in_its_region_and_account(
    emu: Any, harness: Callable[..., Any], owned_fs: str, aws_files: dict[str, Optional[str]]
) -> None:
    h = harness(env=aws_files)  # aws:region and AWS_REGION say us-east-1
    program = read_with_provider(owned_fs, region=WEST, profile="prod")

    up = h.up(program)
    assert up.ok, up.error_text()
    (backup,) = owner_backups(emu)
    assert up.stack_outputs["backup_arn"] == backup["ResourceARN"] and f":{WEST}:{OWNER}:" in backup["ResourceARN"]
    # Preview's look-up and the up's calls all went to us-west-2, signed by the profile's key.
    assert fsx_calls(emu, "DescribeFileSystems") and fsx_calls(emu, "CreateBackup")
    assert {(r.region, r.access_key) for r in emu.requests if r.service == "fsx"} == {(WEST, OWNER_KEY)}
    assert not [r for r in emu.requests if r.refused]

    # The URN the component computed for its child (the token's material) is the engine's.
    (child,) = [r for r in h.state.resources.values() if r.type.endswith("fsx-backup:Backup")]
    assert plain(child.outputs)["resource_urn"] == child.urn

    again = h.up(program)
    assert again.ok and not [m for m in again.methods() if m in ("Create", "Update", "Delete")]
    assert h.destroy(program).ok
    assert owner_backups(emu) == []


def test_without_the_providers_region_the_stack_default_is_wrong(
    emu: Any, harness: Callable[..., Any], owned_fs: str, aws_files: dict[str, Optional[str]]
) -> None:
    """The control of the test above: the same file system given by ID, with no provider, is looked
    for in us-east-1 with the harness's keys, and preview says where it looked and what to do."""
    h = harness(env=aws_files)
    preview = h.preview(lambda: FsxBackup("bk", file_system_id=owned_fs) and None)
    assert not preview.ok
    assert f"{owned_fs} was not found in region us-east-1" in preview.error_text()
    assert "providers=[...]" in preview.error_text() and "assume_roles=" in preview.error_text()


def test_an_id_target_follows_the_components_providers(
    emu: Any, harness: Callable[..., Any], owned_fs: str, aws_files: dict[str, Optional[str]]
) -> None:
    def program() -> None:
        prod = aws.Provider("prod", region=WEST, profile="prod")
        FsxBackup("bk", file_system_id=owned_fs, opts=pulumi.ResourceOptions(providers=[prod]))

    h = harness(env=aws_files)
    assert h.up(program).ok
    assert len(owner_backups(emu)) == 1
    assert {r.access_key for r in fsx_calls(emu, "CreateBackup")} == {OWNER_KEY}


def test_a_role_in_another_account_is_assumed_for_preview_up_and_destroy(
    emu: Any, harness: Callable[..., Any], owned_fs: str
) -> None:
    emu.add_role(ROLE, trusted_accounts=[HARNESS_ACCOUNT], external_id="ext-7")

    def program() -> None:
        west = aws.Provider("west", region=WEST)
        fs = aws.fsx.LustreFileSystem.get("data", owned_fs, opts=pulumi.ResourceOptions(provider=west))
        FsxBackup("bk", file_system=fs,
                  assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=ROLE, external_id="ext-7", session_name="deploy")])

    h = harness()
    assert h.preview(program).ok
    up = h.up(program)
    assert up.ok, up.error_text()
    (backup,) = owner_backups(emu)
    (create,) = fsx_calls(emu, "CreateBackup")
    assert create.access_key.startswith("ASIA") and create.account == OWNER
    assume = [r for r in emu.requests if r.operation == "AssumeRole"]
    assert assume and {r.params["RoleArn"] for r in assume} == {ROLE}
    assert {r.params["ExternalId"] for r in assume} == {"ext-7"}
    assert {r.account for r in assume} == {HARNESS_ACCOUNT}

    assert h.destroy(program).ok
    assert owner_backups(emu) == [] and fsx_calls(emu, "DeleteBackup")[-1].account == OWNER
    assert backup["BackupId"] in {r.params["BackupId"] for r in fsx_calls(emu, "DeleteBackup")}


def test_a_refused_role_fails_preview_with_stss_reason_and_the_role(
    emu: Any, harness: Callable[..., Any], owned_fs: str
) -> None:
    emu.add_role(ROLE, trusted_accounts=["999999999999"])

    def program() -> None:
        FsxBackup("bk", file_system_id=owned_fs, region=WEST, assume_roles=[{"role_arn": ROLE}])

    h = harness()
    preview = h.preview(program)
    assert not preview.ok
    text = preview.error_text()
    assert f"could not assume {ROLE}: AccessDenied: User: arn:aws:iam::{HARNESS_ACCOUNT}:" in text
    assert "is not authorized to perform: sts:AssumeRole" in text and "assume_roles" in text
    assert "Traceback" not in text and "Traceback" not in h.provider_output()
    assert write_calls(emu) == {}


def test_static_keys_in_a_provider_are_refused_at_preview_and_never_stored(
    emu: Any, harness: Callable[..., Any], owned_fs: str
) -> None:
    secret = f"static-secret-{secrets.token_hex(8)}"

    def program() -> None:
        keyed = aws.Provider("keyed", region=WEST, access_key=OWNER_KEY, secret_key=secret)
        fs = aws.fsx.LustreFileSystem.get("data", owned_fs, opts=pulumi.ResourceOptions(provider=keyed))
        FsxBackup("bk", file_system=fs)

    h = harness()
    preview = h.preview(program)
    assert not preview.ok
    assert "providers: the AWS provider 'keyed' sets access_key/secret_key/token" in preview.error_text()
    assert "profile" in preview.error_text()
    up = h.up(program)
    assert not up.ok and write_calls(emu) == {}
    assert secret not in preview.error_text() + up.error_text() + h.provider_output()
    backups = [r for r in h.state.resources.values() if r.type.endswith("fsx-backup:Backup")]
    assert backups == []


def test_a_pre_change_backup_follows_the_guarded_file_system_into_its_region(
    emu: Any, harness: Callable[..., Any]
) -> None:
    def program(version: str) -> Callable[[], None]:
        def body() -> None:
            guard = PreChangeBackup("guard")  # no region, no provider: read from the guarded resource
            west = aws.Provider("west", region=WEST)
            aws.fsx.LustreFileSystem(
                "data", storage_capacity=1200, subnet_ids="subnet-0123456789abcdef0",
                deployment_type="PERSISTENT_2", per_unit_storage_throughput=125, file_system_type_version=version,
                opts=pulumi.ResourceOptions(provider=west, hooks=guard.hooks),
            )

        return body

    h = harness()
    assert h.up(program("2.12")).ok
    (fs_region,) = {state.name for state in emu._regions.values() if state.file_systems}
    assert fs_region == WEST, "the harness's pulumi-aws stand-in created the file system in the provider's region"
    upgrade = h.up(program("2.15"))
    assert upgrade.ok, upgrade.error_text()
    (backup,) = user_backups(emu)
    assert backup["ResourceARN"].split(":")[3] == WEST
    assert {r.region for r in fsx_calls(emu, "CreateBackup")} == {WEST}


def test_a_pre_change_backup_takes_a_provider_for_credentials(
    emu: Any, harness: Callable[..., Any], owned_fs: str, aws_files: dict[str, Optional[str]]
) -> None:
    """A guard handed the owner's provider reads and backs up the owner's file system: the guarded
    resource here is read into the stack, then its tags change (an update, so the hook fires)."""

    def program(team: str) -> Callable[[], None]:
        def body() -> None:
            prod = aws.Provider("prod", region=WEST, profile="prod")
            guard = PreChangeBackup("guard", provider=prod)
            aws.fsx.LustreFileSystem(
                "data", storage_capacity=1200, subnet_ids="subnet-0123456789abcdef0",
                deployment_type="PERSISTENT_2", per_unit_storage_throughput=125, tags={"team": team},
                opts=pulumi.ResourceOptions(provider=prod, hooks=guard.hooks),
            )

        return body

    h = harness(env=aws_files)
    assert h.up(program("a")).ok
    # The stand-in created it in the emulator's default account: move it to the owner's, where the
    # guard's profile (and only it) can see it.
    fs_urn = next(u for u, r in h.state.resources.items() if r.type == "aws:fsx/lustreFileSystem:LustreFileSystem")
    fs_id = h.state.resources[fs_urn].id
    move_to_account(emu, fs_id, OWNER)
    update = h.up(program("b"))
    assert update.ok, update.error_text()
    (backup,) = owner_backups(emu)
    assert {r.access_key for r in fsx_calls(emu, "CreateBackup")} == {OWNER_KEY}


def test_copies_are_made_with_the_same_profile_in_each_destination(
    emu: Any, harness: Callable[..., Any], owned_fs: str, aws_files: dict[str, Optional[str]]
) -> None:
    emu.copy_seconds = 0.5

    def program() -> None:
        prod = aws.Provider("prod", region=WEST, profile="prod")
        backup = FsxBackup("bk", file_system_id=owned_fs, copy_to_regions=["eu-west-1"],
                           opts=pulumi.ResourceOptions(providers=[prod]))
        pulumi.export("copies", backup.copies)

    h = harness(env=aws_files)
    up = h.up(program)
    assert up.ok, up.error_text()
    (copy,) = owner_backups(emu, "eu-west-1")
    assert up.stack_outputs["copies"][0]["backup_id"] == copy["BackupId"]
    (request,) = fsx_calls(emu, "CopyBackup")
    assert request.region == "eu-west-1" and request.access_key == OWNER_KEY
    assert h.destroy(program).ok
    assert owner_backups(emu, "eu-west-1") == [] and owner_backups(emu) == []
