"""The component follows the target's AWS provider (issue: another region, a profile, a role in
another account): what it sends as the child's ``aws`` input, field by field, by precedence."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from component_helpers import READ_REGION, RecordingMonitor, Registration, run

from fsx_backup_component import FsxBackup
from fsx_backup_component.connection import settings_from_input

FS_ID = "fs-0123456789abcdef0"
ROLE = "arn:aws:iam::222222222222:role/backup"


def child(monitor: RecordingMonitor) -> Registration:
    (found,) = monitor.of_type("pulumi-python:dynamic/fsx-backup:Backup")
    return found


def lustre_read_with(provider: Any = None, **kw: Any) -> aws.fsx.LustreFileSystem:
    return aws.fsx.LustreFileSystem(
        "data", deployment_type="PERSISTENT_2", subnet_ids="subnet-1", storage_capacity=1200,
        per_unit_storage_throughput=125, opts=pulumi.ResourceOptions(provider=provider), **kw,
    )


def test_a_target_resource_brings_its_providers_region_and_profile(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        prod = aws.Provider("prod", region="us-west-2", profile="prod")
        return FsxBackup("b", file_system=lustre_read_with(prod)).backup_id

    run(program)
    assert child(monitor).inputs["aws"] == {"region": "us-west-2", "profile": "prod"}
    assert child(monitor).inputs.get("region") is None  # the `region` argument stays the user's


def test_the_targets_own_region_beats_its_providers(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        prod = aws.Provider("prod", region="us-west-2", profile="prod")
        return FsxBackup("b", file_system=lustre_read_with(prod, region="eu-west-1")).backup_id

    run(program)
    assert child(monitor).inputs["aws"]["region"] == "eu-west-1"


def test_an_id_target_follows_the_components_providers(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        prod = aws.Provider("prod", region="ap-southeast-2", profile="ops")
        return FsxBackup("b", file_system_id=FS_ID, opts=pulumi.ResourceOptions(providers=[prod])).backup_id

    run(program)
    assert child(monitor).inputs["aws"] == {"region": "ap-southeast-2", "profile": "ops"}


def test_provider_option_works_like_providers(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        prod = aws.Provider("prod", region="ap-southeast-2")
        return FsxBackup("b", file_system_id=FS_ID, opts=pulumi.ResourceOptions(provider=prod)).backup_id

    run(program)
    assert child(monitor).inputs["aws"]["region"] == "ap-southeast-2"


def test_the_targets_provider_beats_the_components(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        target = aws.Provider("target", region="us-west-2", profile="owner")
        other = aws.Provider("other", region="eu-central-1", profile="someone-else")
        return FsxBackup("b", file_system=lustre_read_with(target), opts=pulumi.ResourceOptions(providers=[other])).backup_id

    run(program)
    assert child(monitor).inputs["aws"] == {"region": "us-west-2", "profile": "owner"}


def test_no_provider_and_no_arguments_send_nothing(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system_id=FS_ID).backup_id)
    # States written before this input existed stay without a diff.
    assert child(monitor).inputs.get("aws") is None


def test_assume_roles_and_files_are_taken_as_arguments(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        prod = aws.Provider("prod", region="us-west-2", profile="base")
        return FsxBackup(
            "b", file_system=lustre_read_with(prod),
            assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=ROLE, external_id="ext-1", duration="1h")],
            shared_config_files=["/etc/aws/config"], shared_credentials_files=["/etc/aws/credentials"],
        ).backup_id

    run(program)
    sent = child(monitor).inputs["aws"]
    settings, failures = settings_from_input(sent)
    assert failures == []
    assert settings.profile == "base" and settings.region == "us-west-2"
    assert [(r.role_arn, r.external_id, r.duration_seconds) for r in settings.assume_roles] == [(ROLE, "ext-1", 3600)]
    assert settings.shared_config_file == "/etc/aws/config"
    assert settings.shared_credentials_file == "/etc/aws/credentials"


def test_static_keys_are_named_never_carried(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        keyed = aws.Provider("keyed", region="us-west-2", access_key="AKIASTATIC0000000000", secret_key="s3cr3t-value")
        return FsxBackup("b", file_system=lustre_read_with(keyed)).backup_id

    run(program)
    sent = child(monitor).inputs["aws"]
    assert sent["static_keys_in"] == "keyed"
    assert "AKIASTATIC" not in repr(sent) and "s3cr3t" not in repr(sent)
    failures = settings_from_input(sent)[1]
    assert [f.property for f in failures] == ["providers"]
    assert "'keyed'" in failures[0].reason and "profile" in failures[0].reason


def test_the_region_is_read_from_the_arn_when_nothing_else_says(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        # Read with the default provider; the mock answers a read with an ARN and no `region`.
        volume = aws.fsx.OntapVolume.get("vol", "fsvol-0123456789abcdef0")
        return FsxBackup("b", volume=volume).backup_id

    run(program)
    assert child(monitor).inputs["aws"] == {"region": READ_REGION}


@pytest.mark.parametrize("monitor", [True], indirect=True, ids=["preview"])
def test_at_preview_an_unset_provider_setting_is_absent_not_unknown(monitor: RecordingMonitor) -> None:
    """In a preview the SDK resolves a provider output that was never given as unknown; taken as
    unknown, the whole setting would be, and preview could not check the target at all."""

    def program() -> Any:
        west = aws.Provider("west", region="us-west-2")  # no profile, no keys
        keyed = aws.Provider("keyed", region="eu-west-1", access_key="AKIASTATIC0000000000", secret_key="s3cr3t")
        FsxBackup("plain", file_system_id=FS_ID, opts=pulumi.ResourceOptions(providers=[west]))
        return FsxBackup("keyed", file_system_id=FS_ID, opts=pulumi.ResourceOptions(providers=[keyed])).urn

    run(program)
    by_name = {r.name: r for r in monitor.of_type("pulumi-python:dynamic/fsx-backup:Backup")}
    plain, keyed = by_name["plain"], by_name["keyed"]
    assert plain.inputs["aws"] == {"region": "us-west-2"}
    assert keyed.inputs["aws"] == {"region": "eu-west-1", "static_keys_in": "keyed"}  # refused at this preview


def test_plain_values_make_no_outputs_and_the_same_digest(monitor: RecordingMonitor) -> None:
    """A stack of hundreds of backups pays for every Output an instance makes (BENCHMARKS.md), so
    plain values take none; the digest must not change with the path (it names the backup's life)."""
    from fsx_backup_component.component import _generation_digest, _secret_when_any

    plain = _generation_digest(FS_ID, None, "us-west-2", {"release": "1.2"})
    assert isinstance(plain, str)
    through_outputs = run(lambda: _generation_digest(pulumi.Output.from_input(FS_ID), None, "us-west-2",
                                                     {"release": pulumi.Output.from_input("1.2")}))
    assert through_outputs == plain
    secret_source = run(lambda: pulumi.Output.all(
        _secret_when_any(pulumi.Output.secret("v"), [pulumi.Output.secret("k")]).is_secret(),
        _secret_when_any(pulumi.Output.secret("v"), ["plain", None, {"a": "b"}]).is_secret(),
    ))
    assert secret_source == [True, False]
