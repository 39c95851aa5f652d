"""FsxBackup under `pulumi.runtime.set_mocks`: the graph, the child's inputs, the outputs, targets."""

from __future__ import annotations

import base64
from typing import Any

import dill
import pulumi
import pulumi_aws as aws
import pytest
from component_helpers import BACKUP_ID, RecordingMonitor, Registration, run
from pulumi.output import Unknown

from fsx_backup_component import FsxBackup, FsxBackupArgs, InvalidInputError
from fsx_backup_component.component import DERIVED_OUTPUT_SOURCES
from fsx_backup_component.life import LifeProvider
from fsx_backup_component.provider import BackupProvider

COMPONENT = "fsx-backup:index:FsxBackup"
CHILD = "pulumi-python:dynamic/fsx-backup:Backup"
LIFE = "pulumi-python:dynamic/fsx-backup:Life"
FS_ID = "fs-0123456789abcdef0"
VOL_ID = "fsvol-0123456789abcdef0"
OUTPUTS = ("backup_id", "backup_arn", "lifecycle", "file_system_id", "volume_id", "file_system_type",
           "resource_type", "creation_time", "kms_key_id", "tags", "client_request_token")


def all_outputs(backup: FsxBackup) -> pulumi.Output[dict[str, Any]]:
    return pulumi.Output.all(**{name: getattr(backup, name) for name in OUTPUTS})


def only_child(monitor: RecordingMonitor) -> Registration:
    children = monitor.of_type(CHILD)
    assert len(children) == 1, [r.typ for r in monitor.registrations]
    return children[0]


def decoded_provider(child: Registration) -> Any:
    return dill.loads(base64.b64decode(child.inputs["__provider"]))


# -------------------------------------------------------------------------------------------------
# graph


def test_component_type_and_one_parented_child(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("nightly", file_system_id=FS_ID).backup_id)
    (component,) = monitor.of_type(COMPONENT)
    child = only_child(monitor)
    assert component.name == "nightly" and component.custom is False
    assert child.name == "nightly" and child.custom is True
    assert child.parent == component.urn
    assert child.urn.endswith("fsx-backup:index:FsxBackup$pulumi-python:dynamic/fsx-backup:Backup::nightly")


def test_inputs_pass_through_with_defaults(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system_id=FS_ID, tags={"team": "storage"}, triggers={"release": "1.2"}).backup_id)
    child = only_child(monitor)
    (component,) = monitor.of_type(COMPONENT)
    # create() is never told its URN, so the component passes the child's URN as the engine forms it:
    # the parent's whole type chain without the root stack's type (deployment.go generateURN), then
    # `$` and the child's type. (The mock monitor keeps the stack's type in the chain and forms child
    # URNs from the parent's last type only, so neither URN can be compared directly.)
    assert component.urn == f"urn:pulumi:dev::proj::pulumi:pulumi:Stack${COMPONENT}::b"  # the mock's form
    assert child.inputs["resource_urn"] == f"urn:pulumi:dev::proj::{COMPONENT}${CHILD}::b"

    assert child.inputs["target_file_system_id"] == FS_ID
    assert child.inputs.get("target_volume_id") is None
    assert child.inputs["tags"] == {"team": "storage"}
    assert child.inputs["triggers"] == {"release": "1.2"}
    assert child.inputs["timeout_seconds"] == 7200
    assert child.inputs.get("region") is None
    assert child.inputs.get("target_facts") in ({}, None)


def test_a_nested_components_child_urn_follows_its_parents_chain(monitor: RecordingMonitor) -> None:
    class Outer(pulumi.ComponentResource):
        def __init__(self) -> None:
            super().__init__("acme:index:Outer", "outer")

    def program() -> Any:
        outer = Outer()
        return FsxBackup("b", file_system_id=FS_ID, opts=pulumi.ResourceOptions(parent=outer)).backup_id

    run(program)
    (component,) = monitor.of_type(COMPONENT)
    assert only_child(monitor).inputs["resource_urn"] == f"{component.urn.rsplit('::', 1)[0]}${CHILD}::b"


def test_all_outputs_are_exposed_on_the_component(monitor: RecordingMonitor) -> None:
    values = run(lambda: all_outputs(FsxBackup("b", volume_id=VOL_ID, tags={"a": "b"})))
    assert values == {
        "backup_id": BACKUP_ID,
        "backup_arn": f"arn:aws:fsx:us-east-1:123456789012:backup/{BACKUP_ID}",
        "lifecycle": "AVAILABLE",
        "file_system_id": "fs-0123456789abcdef0",
        "volume_id": VOL_ID,
        "file_system_type": "LUSTRE",
        "resource_type": "VOLUME",
        "creation_time": "2024-01-02T03:04:05Z",
        "kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/k",
        "tags": {"a": "b"},
        "client_request_token": "fsxb-" + "0" * 40,
    }


def test_copies_output_defaults_to_an_empty_list(monitor: RecordingMonitor) -> None:
    assert run(lambda: FsxBackup("b", file_system_id=FS_ID).copies) == []


# -------------------------------------------------------------------------------------------------
# arguments


def test_kwargs_and_args_object_are_equivalent(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        a = FsxBackup("kw", file_system_id=FS_ID, tags={"x": "1"}, timeout_seconds=60, region="eu-west-1")
        b = FsxBackup("obj", FsxBackupArgs(file_system_id=FS_ID, tags={"x": "1"}, timeout_seconds=60, region="eu-west-1"))
        c = FsxBackup("mixed", FsxBackupArgs(file_system_id=FS_ID, tags={"x": "1"}), timeout_seconds=60, region="eu-west-1")
        return pulumi.Output.all(a.backup_id, b.backup_id, c.backup_id)

    run(program)
    children = monitor.of_type(CHILD)
    # The URN and the life nonce are each resource's own.
    strip = [{k: v for k, v in r.inputs.items() if k not in ("resource_urn", "__provider", "life")} for r in children]
    assert len(children) == 3 and strip[0] == strip[1] == strip[2]
    assert strip[0]["timeout_seconds"] == 60 and strip[0]["region"] == "eu-west-1"


def test_unknown_keyword_is_refused_listing_the_valid_ones(monitor: RecordingMonitor) -> None:
    with pytest.raises(InvalidInputError) as info:
        run(lambda: FsxBackup("b", file_system_id=FS_ID, timeout=60).backup_id)
    assert info.value.property_name == "timeout"
    for valid in ("file_system", "file_system_id", "volume", "volume_id", "tags", "triggers", "timeout_seconds",
                  "region", "retain_on_delete"):
        assert valid in info.value.reason


def test_keywords_do_not_change_the_callers_args_object(monitor: RecordingMonitor) -> None:
    shared = FsxBackupArgs(tags={"team": "storage"})

    def program() -> Any:
        FsxBackup("a", shared, file_system_id=FS_ID)
        return FsxBackup("b", shared, volume_id=VOL_ID).backup_id

    run(program)
    assert shared.file_system_id is None and shared.volume_id is None


def test_a_target_given_twice_is_refused(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        fs = aws.fsx.WindowsFileSystem("w", storage_capacity=32, subnet_ids=["subnet-1"], throughput_capacity=8)
        return FsxBackup("b", file_system=fs, file_system_id=FS_ID).backup_id

    with pytest.raises(InvalidInputError, match="file_system: give `file_system` or `file_system_id`, not both"):
        run(program)


@pytest.mark.parametrize("retain_via", ["args", "opts"])
def test_retain_on_delete_reaches_the_child(monitor: RecordingMonitor, retain_via: str) -> None:
    if retain_via == "args":
        run(lambda: FsxBackup("b", file_system_id=FS_ID, retain_on_delete=True).backup_id)
    else:
        run(lambda: FsxBackup("b", file_system_id=FS_ID, opts=pulumi.ResourceOptions(retain_on_delete=True)).backup_id)
    assert only_child(monitor).retain_on_delete is True


def test_children_are_not_retained_by_default(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system_id=FS_ID).backup_id)
    assert only_child(monitor).retain_on_delete is False


def test_serialized_provider_is_a_stateless_backup_provider(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system_id=FS_ID).backup_id)
    child = only_child(monitor)
    raw = base64.b64decode(child.inputs["__provider"])
    assert len(child.inputs["__provider"]) <= 256
    provider = dill.loads(raw)
    assert type(provider) is BackupProvider
    assert provider.__getstate__() == {} and provider._config_region is None
    for secret in (b"AKIACOMPONENTTEST000", b"component-test-secret"):
        assert secret not in raw


# -------------------------------------------------------------------------------------------------
# targets given as pulumi_aws resources


def lustre(name: str = "lustre", **kw: Any) -> aws.fsx.LustreFileSystem:
    return aws.fsx.LustreFileSystem(name, storage_capacity=1200, subnet_ids="subnet-1", **kw)


def check_at_preview(child: Registration, target_key: str) -> list[tuple[str, str]]:
    """What check() says during a preview in which the target is still being created."""
    news = {k: v for k, v in child.inputs.items() if k != "__provider"}
    news[target_key] = Unknown()
    result = BackupProvider().check({}, news)  # unknown target: judged from the facts, no AWS call
    return [(f.property, f.reason) for f in result.failures]


def test_lustre_resource_target(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system=lustre(deployment_type="PERSISTENT_2", per_unit_storage_throughput=125)).backup_id)
    child = only_child(monitor)
    assert child.inputs["target_file_system_id"] == FS_ID
    facts = child.inputs["target_facts"]
    assert facts["file_system_type"] == "LUSTRE" and facts["deployment_type"] == "PERSISTENT_2"
    assert facts.get("import_path") is None and facts.get("export_path") is None
    assert check_at_preview(child, "target_file_system_id") == []


@pytest.mark.parametrize("kw,fragment", [
    ({"deployment_type": "SCRATCH_2"}, "SCRATCH_2"),
    ({"deployment_type": "PERSISTENT_1", "import_path": "s3://bucket/data"}, "s3://bucket/data"),
])
def test_ineligible_lustre_resource_fails_check_from_its_inputs(monitor: RecordingMonitor, kw: dict[str, Any], fragment: str) -> None:
    run(lambda: FsxBackup("b", file_system=lustre(**kw)).backup_id)
    failures = check_at_preview(only_child(monitor), "target_file_system_id")
    assert [p for p, _ in failures] == ["file_system_id"] and fragment in failures[0][1]


def test_windows_and_openzfs_resource_targets(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        win = aws.fsx.WindowsFileSystem("w", storage_capacity=32, subnet_ids=["subnet-1"], throughput_capacity=8,
                                        deployment_type="MULTI_AZ_1")
        zfs = aws.fsx.OpenZfsFileSystem("z", storage_capacity=64, subnet_ids=["subnet-1"], throughput_capacity=64,
                                        deployment_type="SINGLE_AZ_1")
        return pulumi.Output.all(FsxBackup("w", file_system=win).backup_id, FsxBackup("z", file_system=zfs).backup_id)

    run(program)
    facts = {r.name: r.inputs["target_facts"] for r in monitor.of_type(CHILD)}
    assert facts["w"] == {"file_system_type": "WINDOWS", "deployment_type": "MULTI_AZ_1"}
    assert facts["z"] == {"file_system_type": "OPENZFS", "deployment_type": "SINGLE_AZ_1"}
    for child in monitor.of_type(CHILD):
        assert check_at_preview(child, "target_file_system_id") == []


def test_ontap_volume_resource_target(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("v", volume=aws.fsx.OntapVolume(
        "vol", storage_virtual_machine_id="svm-0123456789abcdef0", ontap_volume_type="RW")).backup_id)
    child = only_child(monitor)
    assert child.inputs["target_volume_id"] == VOL_ID and child.inputs.get("target_file_system_id") is None
    assert child.inputs["target_facts"]["volume_type"] == "ONTAP"
    assert child.inputs["target_facts"]["ontap_volume_type"] == "RW"
    assert check_at_preview(child, "target_volume_id") == []


def test_ontap_dp_volume_resource_fails_check(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("v", volume=aws.fsx.OntapVolume(
        "vol", storage_virtual_machine_id="svm-0123456789abcdef0", ontap_volume_type="DP")).backup_id)
    failures = check_at_preview(only_child(monitor), "target_volume_id")
    assert [p for p, _ in failures] == ["volume_id"] and "RW" in failures[0][1]


def test_ontap_file_system_as_file_system_fails_check_saying_pass_the_volume(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system=aws.fsx.OntapFileSystem(
        "ontap", deployment_type="SINGLE_AZ_1", subnet_ids=["subnet-1"], preferred_subnet_id="subnet-1",
        throughput_capacity=128, storage_capacity=1024)).backup_id)
    child = only_child(monitor)
    assert child.inputs["target_facts"]["file_system_type"] == "ONTAP"
    failures = check_at_preview(child, "target_file_system_id")
    assert failures and failures[0][0] == "file_system_id" and "Pass the volume instead" in failures[0][1]


def test_a_non_fsx_resource_is_refused_naming_the_property(monitor: RecordingMonitor) -> None:
    with pytest.raises(InvalidInputError) as info:
        run(lambda: FsxBackup("b", file_system=aws.sns.Topic("topic")).backup_id)
    assert info.value.property_name == "file_system"
    assert "pulumi_aws.fsx.LustreFileSystem" in info.value.reason and "Topic" in info.value.reason


def test_a_file_system_resource_as_volume_is_refused(monitor: RecordingMonitor) -> None:
    with pytest.raises(InvalidInputError) as info:
        run(lambda: FsxBackup("b", volume=lustre()).backup_id)
    assert info.value.property_name == "volume" and "pulumi_aws.fsx.OntapVolume" in info.value.reason


# -------------------------------------------------------------------------------------------------
# preview


@pytest.mark.parametrize("monitor", [True], indirect=True, ids=["preview"])
def test_preview_builds_the_same_graph(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system=lustre(deployment_type="PERSISTENT_2")).urn)
    child = only_child(monitor)
    assert child.parent == monitor.of_type(COMPONENT)[0].urn
    assert child.inputs["target_facts"]["file_system_type"] == "LUSTRE"


# -------------------------------------------------------------------------------------------------
# the life of a backup: a child nonce the backup's tokens derive from (issue 14, A.3)


def only_life(monitor: RecordingMonitor) -> Registration:
    lives = monitor.of_type(LIFE)
    assert len(lives) == 1, [r.typ for r in monitor.registrations]
    return lives[0]


def test_a_life_child_holds_the_nonce_the_backup_is_given(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("nightly", file_system_id=FS_ID).backup_id)
    life, child = only_life(monitor), only_child(monitor)
    (component,) = monitor.of_type(COMPONENT)
    assert life.name == "nightly-life" and life.custom is True and life.parent == component.urn
    assert child.inputs["life"] == "nonce-of-nightly-life"
    assert type(dill.loads(base64.b64decode(life.inputs["__provider"]))) is LifeProvider
    assert len(life.inputs["__provider"]) <= 256
    assert not life.retain_on_delete  # nothing outside the state


def _life_generations(monitor: RecordingMonitor, *backups: dict[str, Any]) -> list[str]:
    def program() -> Any:
        return pulumi.Output.all(*[FsxBackup(f"b{n}", **kw).backup_id for n, kw in enumerate(backups)])

    run(program)
    by_name = {r.name: r.inputs["generation"] for r in monitor.of_type(LIFE)}
    return [by_name[f"b{n}-life"] for n in range(len(backups))]


def test_the_life_is_renewed_by_target_region_and_triggers_not_by_tags(monitor: RecordingMonitor) -> None:
    base = {"file_system_id": FS_ID, "triggers": {"v": "1"}}
    generations = _life_generations(
        monitor,
        base,
        {**base, "tags": {"team": "x"}, "timeout_seconds": 60, "copy_to_regions": ["us-west-2"]},
        {**base, "triggers": {"v": "2"}},
        {**base, "file_system_id": "fs-0123456789abcdef9"},
        {"volume_id": VOL_ID, "triggers": {"v": "1"}},
        {**base, "region": "eu-west-1"},
    )
    assert all(isinstance(g, str) and len(g) == 64 for g in generations)
    assert generations[0] == generations[1]
    assert len(set(generations[:1] + generations[2:])) == 5


def test_delete_superseded_reaches_the_child(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        return pulumi.Output.all(FsxBackup("keep", file_system_id=FS_ID).backup_id,
                                 FsxBackup("drop", file_system_id=FS_ID, delete_superseded=True).backup_id)

    run(program)
    flags = {r.name: r.inputs.get("delete_superseded") for r in monitor.of_type(CHILD)}
    assert flags == {"keep": False, "drop": True}


@pytest.mark.parametrize("value", [0, -1, 1.5, True, "3"], ids=["zero", "negative", "fraction", "bool", "string"])
def test_a_bad_keep_last_is_refused_naming_it(monitor: RecordingMonitor, value: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        run(lambda: FsxBackup("b", file_system_id=FS_ID, keep_last=value).backup_id)
    assert info.value.property_name == "keep_last" and ">= 1" in info.value.reason


def test_keep_last_adds_one_rotation_nonce_kept_across_lives(monitor: RecordingMonitor) -> None:
    def program() -> Any:
        return pulumi.Output.all(FsxBackup("plain", file_system_id=FS_ID).backup_id,
                                 FsxBackup("rotated", file_system_id=FS_ID, keep_last=3).backup_id)

    run(program)
    lives = {r.name: r.inputs.get("generation") for r in monitor.of_type(LIFE)}
    assert set(lives) == {"plain-life", "rotated-life", "rotated-rotation"}
    assert lives["rotated-rotation"] == "rotation", "a constant generation: the rotation is never replaced"
    children = {r.name: r.inputs for r in monitor.of_type(CHILD)}
    assert children["plain"].get("keep_last") is None and children["plain"].get("rotation") is None
    assert children["rotated"]["keep_last"] == 3 and children["rotated"]["rotation"]


# -------------------------------------------------------------------------------------------------
# secrets: derived outputs are stored encrypted, and shown secret exactly when their sources are (A.2)


def test_the_backup_child_declares_its_derived_outputs_secret(monitor: RecordingMonitor) -> None:
    run(lambda: FsxBackup("b", file_system_id=FS_ID, tags={"team": "x"}).backup_id)
    assert set(only_child(monitor).additional_secret_outputs) == set(DERIVED_OUTPUT_SOURCES)
    assert {"managed_tags", "copies", "file_system_id", "volume_id", "backup_arn"} <= set(DERIVED_OUTPUT_SOURCES)


def _secrecy(backup: FsxBackup) -> pulumi.Output[dict[str, bool]]:
    names = ("file_system_id", "volume_id", "backup_arn", "copies", "backup_id", "lifecycle")
    return pulumi.Output.all(**{name: pulumi.Output.from_input(getattr(backup, name).is_secret()) for name in names})


def test_derived_outputs_are_not_secret_from_plain_inputs(monitor: RecordingMonitor) -> None:
    secrecy = run(lambda: _secrecy(FsxBackup("b", file_system_id=FS_ID, region="us-east-1")))
    assert secrecy == dict.fromkeys(secrecy, False)


@pytest.mark.parametrize("secret_arg,expected", [
    ("file_system_id", {"file_system_id"}),
    ("region", {"backup_arn"}),
    ("copy_to_regions", {"copies"}),
])
def test_derived_outputs_are_secret_exactly_when_their_source_is(
    monitor: RecordingMonitor, secret_arg: str, expected: set[str]
) -> None:
    kwargs: dict[str, Any] = {"file_system_id": FS_ID, "region": "us-east-1", "copy_to_regions": ["us-west-2"]}
    kwargs[secret_arg] = pulumi.Output.secret(kwargs[secret_arg])
    secrecy = run(lambda: _secrecy(FsxBackup("b", **kwargs)))
    assert {name for name, secret in secrecy.items() if secret} == expected


def test_a_secret_volume_id_makes_the_volume_id_output_secret(monitor: RecordingMonitor) -> None:
    secrecy = run(lambda: _secrecy(FsxBackup("b", volume_id=pulumi.Output.secret(VOL_ID))))
    assert secrecy["volume_id"] is True and secrecy["file_system_id"] is False


def test_a_secret_kms_key_inside_copy_to_regions_makes_copies_secret(monitor: RecordingMonitor) -> None:
    kms = pulumi.Output.secret("arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    secrecy = run(lambda: _secrecy(FsxBackup("b", file_system_id=FS_ID,
                                             copy_to_regions=[{"region": "us-west-2", "kms_key_id": kms}])))
    assert {name for name, secret in secrecy.items() if secret} == {"copies"}
