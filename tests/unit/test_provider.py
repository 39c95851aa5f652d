"""BackupProvider's methods called directly, as the dynamic host calls them, over a Stubber client.

``fsx.client_for`` is replaced by a Stubber-backed client (recording the region asked for) and the
process's ``runtime.SHARED`` by one on a fake clock. Stubber raises on any call that was not queued, so a
test that queues only reads proves that no write happened.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import dill
import pytest
from botocore.stub import Stubber
from pulumi.dynamic import CheckFailure, ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown
from pulumi.runtime import rpc
from unit_helpers import (
    FS_ID,
    URN,
    VOL_ID,
    FakeClock,
    backup_id,
    make_backup,
    make_dra,
    make_file_system,
    make_volume,
    outs_of,
)

from fsx_backup_component import backups, fsx, progress, runtime, state
from fsx_backup_component.checks import NOT_FOUND_ADVICE
from fsx_backup_component.connection import DEFAULT as DEFAULT_SETTINGS
from fsx_backup_component.connection import AwsSettings
from fsx_backup_component.errors import FsxBackupError, InvalidInputError
from fsx_backup_component.provider import BackupProvider
from fsx_backup_component.runtime import Runtime
from fsx_backup_component.token import delete_token, derive_token, generation_key

B1 = backup_id(1)


class RecordingLog:
    """Stands in for the engine's Log service (progress.engine_log())."""

    def __init__(self) -> None:
        self.infos: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def info(self, urn: str, message: str, *, ephemeral: bool = True) -> None:
        self.infos.append((urn, message))

    def warn(self, urn: str, message: str) -> None:
        self.warnings.append((urn, message))

    def flush(self, timeout: float = 5.0) -> None:
        pass


@dataclass
class Env:
    client: Any
    stubber: Stubber
    clock: FakeClock
    regions: list[Optional[str]] = field(default_factory=list)
    settings: list[AwsSettings] = field(default_factory=list)
    log: RecordingLog = field(default_factory=RecordingLog)


@pytest.fixture
def env(client: Any, stubber: Stubber, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Env:
    recorded = Env(client, stubber, clock)
    monkeypatch.setattr(progress, "_ENGINE_LOG", recorded.log)

    def client_for(region: Optional[str], settings: AwsSettings = DEFAULT_SETTINGS) -> Any:
        recorded.regions.append(region)
        recorded.settings.append(settings)
        return client

    # The fake wait returns a hair after the time asked (see FakeClock.condition_wait).
    fake = Runtime(clock=clock, sleep=clock.sleep, wait=clock.condition_wait)
    monkeypatch.setattr(fsx, "client_for", client_for)
    monkeypatch.setattr(runtime, "SHARED", fake)
    return recorded


def inputs(**overrides: Any) -> dict[str, Any]:
    """What the component sends (plus the host's `__provider`)."""
    base: dict[str, Any] = {
        "__provider": "c2VyaWFsaXplZA==",
        "resource_urn": URN,
        "target_file_system_id": FS_ID,
        "target_volume_id": None,
        "target_facts": {},
        "tags": {"team": "storage"},
        "triggers": {"release": "1.2"},
        "timeout_seconds": 7200,
        "region": None,
        "copy_to_regions": None,
        "copy_tags": True,
        "life": None,  # a state written before lives existed; see the life tests for a nonce
        "delete_superseded": False,
        "aws": None,
        "keep_last": None,  # no rotation; see the keep_last tests
        "rotation": None,
    }
    base.update(overrides)
    return base


def failures_of(result: Any) -> list[tuple[str, str]]:
    assert all(isinstance(f, CheckFailure) for f in result.failures)
    return [(f.property, f.reason) for f in result.failures]


def expect_lustre(stub: Stubber, **kw: Any) -> None:
    stub.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "LUSTRE", **kw)]},
                      expected_params={"FileSystemIds": [FS_ID]})


def expect_listing_of(stub: Stubber, fs_id: str, backups: Optional[list[dict[str, Any]]] = None) -> None:
    """take_backup's first call: the target's live user backups, searched for the token tag."""
    stub.add_response("describe_backups", {"Backups": list(backups or [])}, expected_params={"Filters": [
        {"Name": "backup-type", "Values": ["USER_INITIATED"]}, {"Name": "file-system-id", "Values": [fs_id]}]})


# -------------------------------------------------------------------------------------------------
# check()


def test_check_of_an_eligible_file_system_uses_only_reads(env: Env) -> None:
    expect_lustre(env.stubber)
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    result = BackupProvider().check({}, inputs())
    assert failures_of(result) == []
    assert result.inputs["target_file_system_id"] == FS_ID and result.inputs["timeout_seconds"] == 7200
    assert env.regions == ["us-east-1"]  # from AWS_REGION


def test_check_fills_the_default_timeout(env: Env) -> None:
    expect_lustre(env.stubber)
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    news = inputs()
    del news["timeout_seconds"]
    assert BackupProvider().check({}, news).inputs["timeout_seconds"] == 7200


@pytest.mark.parametrize(
    "overrides",
    [
        {"target_file_system_id": Unknown()},
        {"target_file_system_id": Unknown(), "target_facts": Unknown()},
        {"target_file_system_id": Unknown(), "target_facts": {"deployment_type": Unknown(), "file_system_type": "LUSTRE"}},
        {"tags": Unknown(), "target_file_system_id": Unknown()},
        {"tags": {"team": Unknown()}, "target_file_system_id": Unknown()},
        {"timeout_seconds": Unknown(), "target_file_system_id": Unknown()},
        {"region": Unknown()},
        {"triggers": Unknown(), "target_file_system_id": Unknown()},
        {"target_file_system_id": None, "target_volume_id": Unknown(), "target_facts": {"volume_type": "ONTAP"}},
        {"target_file_system_id": rpc.UNKNOWN},
    ],
    ids=["fs", "fs+facts", "fs+fact", "tags", "tag value", "timeout", "region", "triggers", "volume", "rpc-unknown"],
)
def test_check_with_unknowns_neither_crashes_nor_calls_aws(env: Env, overrides: dict[str, Any]) -> None:
    result = BackupProvider().check({}, inputs(**overrides))  # Stubber has nothing queued
    assert failures_of(result) == []


def test_check_judges_a_target_being_created_from_its_known_inputs(env: Env) -> None:
    news = inputs(target_file_system_id=Unknown(),
                  target_facts={"file_system_type": "LUSTRE", "deployment_type": "SCRATCH_2", "import_path": Unknown()})
    (prop, reason), = failures_of(BackupProvider().check({}, news))
    assert prop == "file_system_id" and "SCRATCH_2" in reason


def test_check_of_an_ontap_volume_being_created(env: Env) -> None:
    news = inputs(target_file_system_id=None, target_volume_id=Unknown(),
                  target_facts={"volume_type": "ONTAP", "ontap_volume_type": "DP"})
    (prop, reason), = failures_of(BackupProvider().check({}, news))
    assert prop == "volume_id" and "RW" in reason


@pytest.mark.parametrize(
    "overrides,prop,fragment",
    [
        ({"target_file_system_id": "fs-12"}, "file_system_id", "not a file system ID"),
        ({"target_volume_id": VOL_ID}, "file_system_id", "not both"),
        ({"target_file_system_id": None}, "file_system_id", "exactly one target"),
        ({"target_file_system_id": None, "target_volume_id": "fsvol-1"}, "volume_id", "not a volume ID"),
        ({"tags": {"aws:x": "y"}}, "tags", "reserved prefix"),
        ({"tags": {f"k{i}": "v" for i in range(50)}}, "tags", "at most 49"),
        ({"timeout_seconds": 0}, "timeout_seconds", "must be positive"),
        ({"timeout_seconds": 10**9}, "timeout_seconds", "7 days"),
        ({"region": "mars-1"}, "region", "not an AWS region name"),
        ({"region": "us-east-1a"}, "region", "not an AWS region name"),
    ],
)
def test_check_reports_bad_input_as_check_failures_without_aws_calls(
    env: Env, overrides: dict[str, Any], prop: str, fragment: str
) -> None:
    found = failures_of(BackupProvider().check({}, inputs(**overrides)))
    assert any(p == prop and fragment in r for p, r in found), found


def test_check_reports_an_unknown_file_system(env: Env) -> None:
    env.stubber.add_client_error("describe_file_systems", "FileSystemNotFound", "no such fs")
    assert failures_of(BackupProvider().check({}, inputs())) == [
        ("file_system_id", f"{FS_ID} was not found in region us-east-1{NOT_FOUND_ADVICE}")]


@pytest.mark.parametrize(
    "fs_kwargs,fs_type,dras,fragment",
    [
        ({"deployment": "SCRATCH_1"}, "LUSTRE", 0, "SCRATCH_1"),
        ({"export_path": "s3://bucket/out"}, "LUSTRE", 0, "s3://bucket/out"),
        ({}, "LUSTRE", 2, "2 data repository association"),
        ({"deployment": "MULTI_AZ_1"}, "ONTAP", None, "Pass the volume instead"),
        ({"lifecycle": "CREATING", "deployment": "SINGLE_AZ_2"}, "WINDOWS", None, "is CREATING"),
    ],
)
def test_check_looks_up_ineligible_file_systems(
    env: Env, fs_kwargs: dict[str, Any], fs_type: str, dras: Optional[int], fragment: str
) -> None:
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, fs_type, **fs_kwargs)]})
    if dras is not None:
        env.stubber.add_response("describe_data_repository_associations",
                                 {"Associations": [make_dra(n) for n in range(dras)]})
    found = failures_of(BackupProvider().check({}, inputs()))
    assert found and found[0][0] == "file_system_id" and fragment in found[0][1], found


@pytest.mark.parametrize("vol_kwargs,fragment", [
    ({"ontap_type": "LS"}, "ONTAP LS volume"), ({"flexcache": "CACHE"}, "FlexCache"),
    ({"volume_type": "OPENZFS"}, "OpenZFS volume")])
def test_check_looks_up_ineligible_volumes(env: Env, vol_kwargs: dict[str, Any], fragment: str) -> None:
    env.stubber.add_response("describe_volumes", {"Volumes": [make_volume(VOL_ID, **vol_kwargs)]},
                             expected_params={"VolumeIds": [VOL_ID]})
    found = failures_of(BackupProvider().check({}, inputs(target_file_system_id=None, target_volume_id=VOL_ID)))
    assert [p for p, _ in found] == ["volume_id"] and fragment in found[0][1]


def test_check_turns_a_look_up_error_into_a_failure(env: Env) -> None:
    env.stubber.add_client_error("describe_file_systems", "AccessDeniedException", "not authorized",
                                 response_meta={"RequestId": "rid-1"})
    (prop, reason), = failures_of(BackupProvider().check({}, inputs()))
    assert prop == "file_system_id"
    assert "could not look up" in reason and "AccessDeniedException: not authorized" in reason and "rid-1" in reason


def test_check_without_any_region_says_how_to_set_one(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    (prop, reason), = failures_of(BackupProvider().check({}, inputs()))
    assert prop == "region" and "aws:region" in reason and "AWS_REGION" in reason


def test_the_host_sends_no_secrets_so_inputs_are_read_as_they_come() -> None:
    """The provider never unwraps secrets: the Python host answers Configure with acceptSecrets=False,
    so the engine sends secret inputs in plain text (the secret rule itself: tests/e2e/test_engine_rules.py).
    A loud guard should a future SDK start accepting secrets."""
    spec = importlib.util.find_spec("pulumi.dynamic.__main__")
    assert spec is not None and spec.origin is not None
    host_source = Path(spec.origin).read_text()
    assert '"acceptSecrets": False' in host_source, "the dynamic host now accepts secrets: unwrap them"


# -------------------------------------------------------------------------------------------------
# configure()


def test_configure_takes_aws_region_and_the_input_wins(env: Env) -> None:
    p = BackupProvider()
    p.configure(ConfigureRequest(Config({"aws:region": "eu-west-1"}, "proj")))
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    assert failures_of(p.check({}, inputs())) == []
    runtime.SHARED._lookups.clear()  # fresh cache for the next region
    assert failures_of(p.check({}, inputs(region="us-west-2"))) == []
    assert env.regions == ["eu-west-1", "us-west-2"]


def test_configure_takes_the_default_providers_credentials_settings(env: Env) -> None:
    p = BackupProvider()
    role = "arn:aws:iam::222222222222:role/backup"
    p.configure(ConfigureRequest(Config(
        {"aws:region": "eu-west-1", "aws:profile": "ops", "aws:assumeRoles": f'[{{"roleArn": "{role}"}}]'}, "proj")))
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    assert failures_of(p.check({}, inputs())) == []
    (used,) = env.settings
    assert used.profile == "ops" and [r.role_arn for r in used.assume_roles] == [role]


def test_the_aws_input_wins_over_the_stack_config_field_by_field(env: Env) -> None:
    p = BackupProvider()
    p.configure(ConfigureRequest(Config({"aws:region": "eu-west-1", "aws:profile": "ops"}, "proj")))
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    assert failures_of(p.check({}, inputs(aws={"region": "ap-southeast-2"}))) == []
    assert env.regions == ["ap-southeast-2"] and env.settings[0].profile == "ops"


def test_bad_stack_config_and_bad_settings_fail_check_naming_them(env: Env) -> None:
    p = BackupProvider()
    p.configure(ConfigureRequest(Config({"aws:assumeRoles": "not json"}, "proj")))
    found = failures_of(p.check({}, inputs(aws={"assume_roles": [{"role_arn": "nope"}]})))
    assert [prop for prop, _ in found] == ["assume_roles[0].role_arn", "aws:assumeRoles"]
    assert env.regions == []  # nothing looked up with settings that are wrong


def test_configure_without_region_falls_back_to_the_environment(env: Env) -> None:
    p = BackupProvider()
    p.configure(ConfigureRequest(Config({}, "proj")))
    assert p._env().region(None) == "us-east-1"  # AWS_REGION


# -------------------------------------------------------------------------------------------------
# create()


def big_file_system_snapshot() -> dict[str, Any]:
    fs = make_file_system(FS_ID, "LUSTRE")
    fs.update({"DNSName": "fs.example" * 20, "SubnetIds": [f"subnet-{i:017x}" for i in range(16)],
               "NetworkInterfaceIds": [f"eni-{i:017x}" for i in range(50)],
               "Tags": [{"Key": f"k{i}", "Value": "v" * 200} for i in range(40)]})
    return fs


def test_create_returns_every_input_and_small_outputs(env: Env) -> None:
    news = inputs()
    generation = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"release": "1.2"})
    token = derive_token(URN, generation, 0)
    backup = make_backup(B1, "AVAILABLE", tags={"team": "storage", fsx.TOKEN_TAG_KEY: token})
    backup["FileSystem"] = big_file_system_snapshot()
    expect_listing_of(env.stubber, FS_ID)
    env.stubber.add_response("create_backup", {"Backup": backup}, expected_params={
        "FileSystemId": FS_ID, "ClientRequestToken": token,
        "Tags": [{"Key": "team", "Value": "storage"}, {"Key": fsx.TOKEN_TAG_KEY, "Value": token}]})
    result = BackupProvider().create(news)
    assert result.id == B1
    outs = outs_of(result)
    for key in state.INPUT_KEYS:
        assert key in outs, key
        assert outs[key] == news[key], key
    assert outs["client_request_token"] == token and outs["token_attempt"] == 0
    assert (outs["backup_id"], outs["lifecycle"], outs["file_system_id"], outs["file_system_type"]) == (
        B1, "AVAILABLE", FS_ID, "LUSTRE")
    assert outs["creation_time"] == "2024-01-02T03:04:05+00:00"
    assert outs["resolved_region"] == "us-east-1" and outs["managed_tags"] == {"team": "storage"}
    assert "__provider" not in outs
    assert len(json.dumps(outs, default=str)) < 4096


def test_create_waits_for_available(env: Env) -> None:
    expect_listing_of(env.stubber, FS_ID)
    expect_lustre(env.stubber)  # no user tags: the target's CopyTagsToBackups is read
    env.stubber.add_response("create_backup", {"Backup": make_backup(B1, "CREATING")})
    env.stubber.add_response("describe_backups", {"Backups": [make_backup(B1, "AVAILABLE")]})
    assert outs_of(BackupProvider().create(inputs(tags=None)))["lifecycle"] == "AVAILABLE"


def test_create_uses_the_region_input(env: Env) -> None:
    expect_listing_of(env.stubber, FS_ID)
    expect_lustre(env.stubber)
    env.stubber.add_response("create_backup", {"Backup": make_backup(B1, "AVAILABLE")})
    BackupProvider().create(inputs(region="eu-central-1", tags=None))
    assert env.regions == ["eu-central-1"]


def test_create_refuses_bad_input_before_any_call(env: Env) -> None:
    with pytest.raises(InvalidInputError, match="file_system_id: 'fs-1' is not a file system ID"):
        BackupProvider().create(inputs(target_file_system_id="fs-1"))
    with pytest.raises(InvalidInputError, match="resource_urn"):
        BackupProvider().create(inputs(resource_urn=None))


# -------------------------------------------------------------------------------------------------
# diff()


def created_outputs(**overrides: Any) -> dict[str, Any]:
    outs: dict[str, Any] = dict(
        state.backup_state(inputs(), make_backup(B1, "AVAILABLE", tags={"team": "storage"}), region="us-east-1")
    )
    outs.update({"client_request_token": "fsxb-x", "token_attempt": 0, "__provider": "b2xk"})
    outs.update(overrides)
    return outs


@pytest.mark.parametrize(
    "news,changes,replaces,retargeted",
    [
        (inputs(), False, [], False),
        (inputs(__provider="ZGlmZmVyZW50"), False, [], False),
        (inputs(resource_urn=URN + "-renamed"), False, [], False),
        (inputs(triggers={}), True, ["triggers"], False),
        (inputs(tags={"team": "storage", "new": "x"}), True, [], False),
        (inputs(tags=None), True, [], False),
        (inputs(tags=Unknown()), True, [], False),
        (inputs(timeout_seconds=60), True, [], False),
        (inputs(triggers={"release": "1.3"}), True, ["triggers"], False),
        (inputs(life="nonce-a"), True, [], False),
        (inputs(delete_superseded=True), True, [], False),
        # A new target is an update: a backup of the new target, the old one kept (issue 14, A.7).
        (inputs(target_file_system_id="fs-0123456789abcdef9"), True, [], True),
        (inputs(target_file_system_id=Unknown()), True, [], True),
        (inputs(target_file_system_id=None, target_volume_id=VOL_ID), True, [], True),
        (inputs(region="eu-west-1"), True, [], True),
        (inputs(target_file_system_id="fs-0123456789abcdef9", triggers={"release": "1.3"}), True, [], True),
        # Following the target's AWS provider (issue 11): the region it names moves the backup only
        # when it differs from where the backup is; other settings are recorded in place.
        (inputs(aws={"region": "us-east-1"}), False, [], False),  # a state older than `aws`: no update
        (inputs(aws={"region": "us-west-2"}), True, [], True),
        (inputs(aws={"region": Unknown()}), True, [], True),
        (inputs(aws={"profile": "prod"}), True, [], False),
        (inputs(region="us-east-1"), True, [], False),
        (inputs(region="eu-west-1", aws={"region": "us-east-1"}), True, [], True),
    ],
    ids=["same", "provider", "urn", "triggers-emptied", "tags", "tags-removed", "tags-unknown", "timeout",
         "triggers", "life", "delete-superseded", "target", "target-unknown", "fs-to-volume", "region",
         "target-and-triggers", "aws-region-where-it-is", "aws-region-elsewhere", "aws-region-unknown",
         "aws-profile", "region-where-it-is", "region-argument-wins"],
)
def test_diff(news: dict[str, Any], changes: bool, replaces: list[str], retargeted: bool) -> None:
    result = BackupProvider().diff(B1, created_outputs(), news)
    assert (result.changes, result.replaces) == (changes, replaces)
    assert result.delete_before_replace is False
    # A retarget changes which backup the resource holds; anything else keeps it.
    stables = result.stables or []
    assert ("backup_id" in stables, "backup_arn" in stables) == (not retargeted, not retargeted)
    assert "resource_urn" in stables


def test_diff_of_no_tags_ignores_tags_fsx_copied_from_the_file_system() -> None:
    olds = state.backup_state(inputs(tags=None), make_backup(B1, "AVAILABLE", tags={"from-fs": "1"}), region="us-east-1")
    assert BackupProvider().diff(B1, dict(olds), inputs(tags=None)).changes is False


def test_diff_sees_managed_tags_that_drifted_in_aws() -> None:
    olds = created_outputs(tags={"team": "changed-in-console"})
    assert BackupProvider().diff(B1, olds, inputs()).changes is True


# -------------------------------------------------------------------------------------------------
# update()


def test_update_retags_in_place(env: Env) -> None:
    olds = created_outputs()
    current = make_backup(B1, "AVAILABLE", tags={"team": "storage", fsx.TOKEN_TAG_KEY: "fsxb-x"})
    arn = current["ResourceARN"]
    env.stubber.add_response("describe_backups", {"Backups": [current]}, expected_params={"BackupIds": [B1]})
    env.stubber.add_response("untag_resource", {}, expected_params={"ResourceARN": arn, "TagKeys": ["team"]})
    env.stubber.add_response("tag_resource", {}, expected_params={"ResourceARN": arn, "Tags": [{"Key": "owner", "Value": "me"}]})
    outs = outs_of(BackupProvider().update(B1, olds, inputs(tags={"owner": "me"}, timeout_seconds=60)))
    assert outs["tags"] == {"owner": "me"} and outs["managed_tags"] == {"owner": "me"}
    assert outs["timeout_seconds"] == 60 and outs["backup_id"] == B1 and outs["client_request_token"] == "fsxb-x"
    assert "__provider" not in outs


def test_update_without_tag_change_makes_no_call(env: Env) -> None:
    outs = outs_of(BackupProvider().update(B1, created_outputs(), inputs(timeout_seconds=100)))
    assert outs["timeout_seconds"] == 100 and outs["tags"] == {"team": "storage"}


def test_update_of_a_vanished_backup_says_to_refresh(env: Env) -> None:
    env.stubber.add_client_error("describe_backups", "BackupNotFound", "gone")
    with pytest.raises(FsxBackupError, match="pulumi refresh"):
        BackupProvider().update(B1, created_outputs(), inputs(tags={"x": "y"}))


# -------------------------------------------------------------------------------------------------
# read() / delete()


def test_read_of_a_vanished_backup_removes_it(env: Env) -> None:
    env.stubber.add_client_error("describe_backups", "BackupNotFound", "gone")
    result = BackupProvider().read(B1, created_outputs())
    assert (result.id, result.outs) == ("", {})


def test_read_reflects_the_live_backup_and_keeps_the_token(env: Env) -> None:
    env.stubber.add_response("describe_backups", {"Backups": [make_backup(B1, "AVAILABLE", tags={"team": "edited"})]})
    result = BackupProvider().read(B1, created_outputs(resolved_region="eu-west-1"))
    assert result.id == B1
    assert outs_of(result)["tags"] == {"team": "edited"} and outs_of(result)["client_request_token"] == "fsxb-x"
    assert outs_of(result)["managed_tags"] == {"team": "storage"}
    assert env.regions == ["eu-west-1"]


def test_delete_of_an_already_deleted_backup_succeeds(env: Env) -> None:
    env.stubber.add_client_error("delete_backup", "BackupNotFound", "gone")
    BackupProvider().delete(B1, created_outputs())


def test_delete_waits_out_busy_and_uses_the_stored_region(env: Env) -> None:
    env.stubber.add_client_error("delete_backup", "BackupBeingCopied", "copying")
    env.stubber.add_response("delete_backup", {"BackupId": B1, "Lifecycle": "DELETED"})
    BackupProvider().delete(B1, created_outputs(resolved_region="ap-southeast-2"))
    assert env.regions == ["ap-southeast-2"] and env.clock.sleeps == [5.0]


def test_delete_removes_every_copy_in_its_region_then_the_backup(env: Env) -> None:
    """Copies first (FSx refuses to delete a source while a copy of it is in progress), each with the
    client of its own region; then the backup in the region the state names."""
    C2 = backup_id(12)
    copies = [
        {"region": "us-west-2", "requested_kms_key_id": None, "backup_id": C2,
         "backup_arn": f"arn:aws:fsx:us-west-2:123456789012:backup/{C2}", "lifecycle": "AVAILABLE", "kms_key_id": "k"},
        {"region": "eu-west-1", "requested_kms_key_id": None, "backup_id": backup_id(13),
         "backup_arn": f"arn:aws:fsx:eu-west-1:123456789012:backup/{backup_id(13)}", "lifecycle": "AVAILABLE",
         "kms_key_id": "k"},
    ]
    for bid in (C2, backup_id(13), B1):
        env.stubber.add_response("delete_backup", {"BackupId": bid, "Lifecycle": "DELETED"},
                                 expected_params={"BackupId": bid, "ClientRequestToken": delete_token(bid)})
    BackupProvider().delete(B1, created_outputs(copies=copies, resolved_region="ap-southeast-2"))
    assert env.regions == ["us-west-2", "eu-west-1", "ap-southeast-2"]


# -------------------------------------------------------------------------------------------------
# the pickled provider


def test_pickled_provider_is_small_and_by_reference() -> None:
    encoded = base64.b64encode(dill.dumps(BackupProvider(), recurse=True))
    assert len(encoded) <= 256
    assert b"fsx_backup_component.provider" in base64.b64decode(encoded)
    assert len(serialize_provider(BackupProvider())) <= 256


def test_pickled_provider_carries_nothing_configured(aws_env: None) -> None:
    p = BackupProvider()
    p.configure(ConfigureRequest(Config({"aws:region": "eu-north-1", "aws:secretKey": "s3cr3t"}, "proj")))
    raw = dill.dumps(p, recurse=True)
    for value in (b"eu-north-1", b"s3cr3t", b"AKIAUNITTESTUNITTEST", b"unit-test-secret-key-not-real"):
        assert value not in raw
    restored = dill.loads(raw)
    assert isinstance(restored, BackupProvider) and restored._config_region is None
    assert dill.dumps(restored, recurse=True) == dill.dumps(BackupProvider(), recurse=True)


# -------------------------------------------------------------------------------------------------
# copy_to_regions at preview (added to the core after this suite's brief: unknowns only)


@pytest.mark.parametrize("copies", [[Unknown()], [{"region": "us-west-2", "kms_key_id": Unknown()}],
                                    [{"region": Unknown()}]], ids=["region", "kms", "region-in-map"])
def test_check_with_unknown_copy_destinations_does_not_fail(env: Env, copies: list[Any]) -> None:
    news = inputs(target_file_system_id=Unknown(), copy_to_regions=copies)
    assert failures_of(BackupProvider().check({}, news)) == []


def test_check_with_wholly_unknown_copy_destinations_does_not_fail(env: Env) -> None:
    news = inputs(target_file_system_id=Unknown(), copy_to_regions=Unknown())
    assert failures_of(BackupProvider().check({}, news)) == []


def test_aws_region_alone_is_enough(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    assert failures_of(BackupProvider().check({}, inputs())) == []
    assert env.regions == ["eu-west-1"]


# -------------------------------------------------------------------------------------------------
# check() of an existing backup: no look-up unless a new generation would be made


def test_check_of_an_unchanged_existing_backup_does_not_look_the_target_up(env: Env) -> None:
    """The file system may be gone (a backup outlives it): `up` must not fail on it. Stubber has no
    answer queued, so any AWS call would fail this test."""
    olds = inputs(tags={"old": "tag"})
    assert failures_of(BackupProvider().check(olds, inputs(tags={"new": "tag"}))) == []
    env.stubber.assert_no_pending_responses()


def test_check_of_an_existing_backup_looks_the_target_up_again_for_a_new_generation(env: Env) -> None:
    env.stubber.add_client_error("describe_file_systems", "FileSystemNotFound", "gone")
    result = BackupProvider().check(inputs(triggers={"v": 1}), inputs(triggers={"v": 2}))
    assert failures_of(result) == [("file_system_id", f"{FS_ID} was not found in region us-east-1{NOT_FOUND_ADVICE}")]


# -------------------------------------------------------------------------------------------------
# region names: refuse only what cannot be a region; warn about one botocore does not know (A.8)


def test_check_accepts_a_region_of_a_newer_partition(env: Env) -> None:
    expect_lustre(env.stubber)
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    assert failures_of(BackupProvider().check({}, inputs(region="eusc-de-east-1"))) == []
    assert env.regions == ["eusc-de-east-1"]


def test_a_well_formed_region_botocore_does_not_know_is_a_warning_not_a_failure(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fsx, "known_regions", lambda: frozenset({"us-east-1", "us-west-2"}))
    expect_lustre(env.stubber)
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    assert failures_of(BackupProvider().check({}, inputs(region="ap-future-9"))) == []
    assert env.regions == ["ap-future-9"]  # FSx is asked: its answer, not a guess here
    (urn, message), = env.log.warnings
    assert urn == URN and "'ap-future-9'" in message and "botocore" in message


def test_a_copy_destination_botocore_does_not_know_is_a_warning(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsx, "known_regions", lambda: frozenset({"us-east-1", "us-west-2"}))
    news = inputs(target_file_system_id=Unknown(), copy_to_regions=["us-west-2", "ap-future-9"])
    assert failures_of(BackupProvider().check({}, news)) == []
    assert [m for _, m in env.log.warnings if "ap-future-9" in m] and not [
        m for _, m in env.log.warnings if "us-west-2" in m or "us-east-1" in m]


def test_known_regions_make_no_warning(env: Env) -> None:
    news = inputs(target_file_system_id=Unknown(), copy_to_regions=["us-west-2"])
    assert failures_of(BackupProvider().check({}, news)) == []
    assert env.log.warnings == []


@pytest.mark.parametrize("region", ["us-east-1\n", "US-EAST-1", "us-east-1a", "us_east_1", " us-east-1", "useast1"])
def test_what_cannot_be_a_region_is_refused_without_aws_calls(env: Env, region: str) -> None:
    found = failures_of(BackupProvider().check({}, inputs(region=region)))
    assert [p for p, _ in found] == ["region"] and "not an AWS region name" in found[0][1]


@pytest.mark.parametrize("region", ["us-west-2a", "US-WEST-2", "us-west-2\n"])
def test_what_cannot_be_a_copy_destination_is_refused(env: Env, region: str) -> None:
    news = inputs(target_file_system_id=Unknown(), copy_to_regions=[region])
    assert [p for p, _ in failures_of(BackupProvider().check({}, news))] == ["copy_to_regions"]


# -------------------------------------------------------------------------------------------------
# the life nonce is part of the token; the backup the state holds is `backup_id`


def test_create_derives_its_token_from_the_life(env: Env) -> None:
    """A new life (another nonce) derives other tokens, so a backup kept from an earlier life is
    never adopted through them."""
    generation = generation_key(file_system_id=FS_ID, volume_id=None, triggers={"release": "1.2"}, life="nonce-a")
    token = derive_token(URN, generation, 0)
    assert token != derive_token(URN, generation_key(file_system_id=FS_ID, volume_id=None,
                                                     triggers={"release": "1.2"}), 0)
    expect_listing_of(env.stubber, FS_ID)
    env.stubber.add_response("create_backup", {"Backup": make_backup(B1, "AVAILABLE")}, expected_params={
        "FileSystemId": FS_ID, "ClientRequestToken": token,
        "Tags": [{"Key": "team", "Value": "storage"}, {"Key": fsx.TOKEN_TAG_KEY, "Value": token}]})
    outs = outs_of(BackupProvider().create(inputs(life="nonce-a")))
    assert outs["client_request_token"] == token and outs["life"] == "nonce-a"


def test_read_delete_and_update_use_the_backup_id_in_state(env: Env) -> None:
    """After a retarget the resource ID still names the first backup; the state names the current one."""
    B2 = backup_id(2)
    stored = created_outputs(backup_id=B2, backup_arn=make_backup(B2)["ResourceARN"])
    env.stubber.add_response("describe_backups", {"Backups": [make_backup(B2, "AVAILABLE", tags={"team": "storage"})]},
                             expected_params={"BackupIds": [B2]})
    result = BackupProvider().read(B1, stored)
    assert (result.id, outs_of(result)["backup_id"]) == (B1, B2)

    env.stubber.add_response("describe_backups", {"Backups": [make_backup(B2, "AVAILABLE", tags={"team": "storage"})]},
                             expected_params={"BackupIds": [B2]})
    env.stubber.add_response("untag_resource", {}, expected_params={
        "ResourceARN": make_backup(B2)["ResourceARN"], "TagKeys": ["team"]})
    env.stubber.add_response("tag_resource", {}, expected_params={
        "ResourceARN": make_backup(B2)["ResourceARN"], "Tags": [{"Key": "owner", "Value": "me"}]})
    assert outs_of(BackupProvider().update(B1, stored, inputs(tags={"owner": "me"})))["backup_id"] == B2

    env.stubber.add_response("delete_backup", {"BackupId": B2, "Lifecycle": "DELETED"},
                             expected_params={"BackupId": B2, "ClientRequestToken": delete_token(B2)})
    BackupProvider().delete(B1, stored)


# -------------------------------------------------------------------------------------------------
# a change of target: an update that backs up the new target and keeps the old backup (A.7)

FS_NEW = "fs-0123456789abcdef9"
B_NEW = backup_id(2)
C_OLD = backup_id(11)


def _old_copy() -> dict[str, Any]:
    return {"region": "us-west-2", "requested_kms_key_id": None, "backup_id": C_OLD,
            "backup_arn": f"arn:aws:fsx:us-west-2:123456789012:backup/{C_OLD}", "lifecycle": "AVAILABLE",
            "kms_key_id": "k"}


def expect_new_target_backup(env: Env, news: dict[str, Any], fs_id: str = FS_NEW) -> str:
    generation = generation_key(file_system_id=fs_id, volume_id=None, triggers=news["triggers"], life=news["life"])
    token = derive_token(URN, generation, 0)
    expect_listing_of(env.stubber, fs_id)
    env.stubber.add_response("create_backup", {"Backup": make_backup(B_NEW, "AVAILABLE", file_system_id=fs_id)},
                             expected_params={"FileSystemId": fs_id, "ClientRequestToken": token, "Tags": [
                                 {"Key": "team", "Value": "storage"}, {"Key": fsx.TOKEN_TAG_KEY, "Value": token}]})
    return token


def superseded(arn: str) -> dict[str, Any]:
    return {"ResourceARN": arn, "Tags": [{"Key": backups.SUPERSEDED_TAG_KEY, "Value": B_NEW}]}


def test_a_new_target_is_backed_up_and_the_old_backup_kept_tagged_superseded(env: Env) -> None:
    olds = created_outputs()
    news = inputs(target_file_system_id=FS_NEW)
    token = expect_new_target_backup(env, news)
    env.stubber.add_response("tag_resource", {}, expected_params=superseded(olds["backup_arn"]))
    outs = outs_of(BackupProvider().update(B1, olds, news))  # Stubber: no DeleteBackup is queued
    assert (outs["backup_id"], outs["target_file_system_id"], outs["file_system_id"]) == (B_NEW, FS_NEW, FS_NEW)
    assert outs["client_request_token"] == token and outs["token_attempt"] == 0
    assert "__provider" not in outs
    assert any(B1 in m and backups.SUPERSEDED_TAG_KEY in m and "delete_superseded" in m
               for _, m in env.log.warnings), env.log.warnings


def test_the_old_backups_copies_are_kept_and_tagged_too(env: Env) -> None:
    olds = created_outputs(copies=[_old_copy()])
    news = inputs(target_file_system_id=FS_NEW)
    expect_new_target_backup(env, news)
    env.stubber.add_response("tag_resource", {}, expected_params=superseded(olds["backup_arn"]))
    env.stubber.add_response("tag_resource", {}, expected_params=superseded(_old_copy()["backup_arn"]))
    outs = outs_of(BackupProvider().update(B1, olds, news))
    assert not outs.get("copies")  # kept in AWS, no longer the resource's: destroy leaves them
    assert "us-west-2" in env.regions


def test_a_superseded_backup_that_cannot_be_tagged_is_kept_with_a_warning(env: Env) -> None:
    olds = created_outputs()
    news = inputs(target_file_system_id=FS_NEW)
    expect_new_target_backup(env, news)
    env.stubber.add_client_error("tag_resource", "AccessDeniedException", "not allowed")
    assert outs_of(BackupProvider().update(B1, olds, news))["backup_id"] == B_NEW
    assert any("could not tag" in m and B1 in m for _, m in env.log.warnings), env.log.warnings


def test_delete_superseded_deletes_the_old_backup_and_its_copies_after_the_new_one(env: Env) -> None:
    olds = created_outputs(copies=[_old_copy()])
    news = inputs(target_file_system_id=FS_NEW, delete_superseded=True)
    expect_new_target_backup(env, news)
    env.stubber.add_response("delete_backup", {"BackupId": C_OLD, "Lifecycle": "DELETED"},
                             expected_params={"BackupId": C_OLD, "ClientRequestToken": delete_token(C_OLD)})
    env.stubber.add_response("delete_backup", {"BackupId": B1, "Lifecycle": "DELETED"},
                             expected_params={"BackupId": B1, "ClientRequestToken": delete_token(B1)})
    outs = outs_of(BackupProvider().update(B1, olds, news))  # Stubber: no TagResource is queued
    assert outs["backup_id"] == B_NEW and outs["delete_superseded"] is True


def test_a_new_region_backs_up_there_and_tags_the_old_backup_in_its_own_region(env: Env) -> None:
    olds = created_outputs(resolved_region="us-east-1")
    news = inputs(region="eu-west-1")
    expect_new_target_backup(env, news, fs_id=FS_ID)
    env.stubber.add_response("tag_resource", {}, expected_params=superseded(olds["backup_arn"]))
    outs = outs_of(BackupProvider().update(B1, olds, news))
    assert outs["backup_id"] == B_NEW
    assert env.regions == ["eu-west-1", "us-east-1"]


def test_a_failed_backup_of_the_new_target_leaves_the_old_one_untouched(env: Env) -> None:
    olds = created_outputs()
    news = inputs(target_file_system_id=FS_NEW, delete_superseded=True)
    expect_listing_of(env.stubber, FS_NEW)
    env.stubber.add_client_error("create_backup", "FileSystemNotFound", "no such file system")
    with pytest.raises(FsxBackupError, match=FS_NEW):
        BackupProvider().update(B1, olds, news)  # Stubber: no DeleteBackup / TagResource queued


def test_a_source_deleted_outside_pulumi_is_still_replaced_not_retargeted() -> None:
    olds = created_outputs(lifecycle="DELETED")
    result = BackupProvider().diff(B1, olds, inputs(target_file_system_id=FS_NEW))
    assert result.replaces == ["lifecycle"]
