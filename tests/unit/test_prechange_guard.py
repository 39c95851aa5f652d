"""PreChangeBackup (prechange.py) over a Stubber client with fake time, its hooks called directly.

The engine is not involved: ``pulumi.ResourceHook`` is replaced by a recorder (a real one registers
with a running engine), ``pulumi.log`` by lists, and ``pulumi.runtime.is_dry_run`` by a switch. What
the engine does with the hooks is tested through the real host in tests/e2e/test_prechange.py.
"""

from __future__ import annotations

import asyncio
import datetime
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
import pytest
from botocore.stub import ANY, Stubber
from unit_helpers import (
    CREATED,
    FS_ID,
    VOL_ID,
    FakeClock,
    backup_id,
    make_backup,
    make_file_system,
    make_volume,
)

from fsx_backup_component import fsx, prechange, runtime
from fsx_backup_component.connection import DEFAULT as DEFAULT_SETTINGS
from fsx_backup_component.connection import AwsSettings
from fsx_backup_component.errors import (
    IneligibleTargetError,
    InvalidInputError,
    TargetNotFoundError,
)
from fsx_backup_component.prechange import GUARD_TAG_KEY, REASON_TAG_KEY, PreChangeBackup
from fsx_backup_component.runtime import Runtime
from fsx_backup_component.token import delete_token

LUSTRE = "aws:fsx/lustreFileSystem:LustreFileSystem"
ONTAP_VOLUME = "aws:fsx/ontapVolume:OntapVolume"
FS_URN = f"urn:pulumi:dev::proj::{LUSTRE}::data"
VOL_URN = f"urn:pulumi:dev::proj::{ONTAP_VOLUME}::vol"
USER_INITIATED = {"Name": "backup-type", "Values": ["USER_INITIATED"]}


class FakeHook:
    """pulumi.ResourceHook without an engine to register with."""

    def __init__(self, name: str, func: Callable[..., Any], opts: Optional[pulumi.ResourceHookOptions] = None) -> None:
        self.name, self.callback, self.opts = name, func, opts


@dataclass
class GuardEnv:
    client: Any
    stubber: Stubber
    clock: FakeClock
    regions: list[Optional[str]] = field(default_factory=list)
    settings: list[AwsSettings] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    infos: list[str] = field(default_factory=list)
    creates: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False


@pytest.fixture
def env(client: Any, stubber: Stubber, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> GuardEnv:
    recorded = GuardEnv(client, stubber, clock)

    def client_for(region: Optional[str], settings: AwsSettings = DEFAULT_SETTINGS) -> Any:
        recorded.regions.append(region)
        recorded.settings.append(settings)
        return client

    monkeypatch.setattr(pulumi, "ResourceHook", FakeHook)
    monkeypatch.setattr(fsx, "client_for", client_for)
    monkeypatch.setattr(runtime, "SHARED", Runtime(clock=clock, sleep=clock.sleep, wait=clock.condition_wait))
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *a, **kw: recorded.warnings.append(message))
    monkeypatch.setattr(pulumi.log, "info", lambda message, *a, **kw: recorded.infos.append(message))
    monkeypatch.setattr(pulumi.runtime, "is_dry_run", lambda: recorded.dry_run)
    client.meta.events.register(
        "provide-client-params.fsx.CreateBackup", lambda params, **_: recorded.creates.append(dict(params)))
    return recorded


def guard(name: str = "guard", **kw: Any) -> PreChangeBackup:
    kw.setdefault("region", "us-east-1")
    kw.setdefault("tags", {"team": "data"})
    return PreChangeBackup(name, **kw)


def change(old: int, new: int, *, fs_id: str = FS_ID) -> pulumi.ResourceHookArgs:
    """The hook's arguments for a Lustre throughput change ``old`` -> ``new``."""
    return pulumi.ResourceHookArgs(
        urn=FS_URN, id=fs_id, name="data", type=LUSTRE,
        old_inputs={"perUnitStorageThroughput": old, "storageCapacity": 1200},
        new_inputs={"perUnitStorageThroughput": new, "storageCapacity": 1200},
    )


def at(minutes: int) -> datetime.datetime:
    return CREATED + datetime.timedelta(minutes=minutes)


def guard_backup(g: PreChangeBackup, bid: str, minutes: int, *, token: Optional[str] = None,
                 lifecycle: str = "AVAILABLE", guard_tag: Optional[str] = None) -> dict[str, Any]:
    tags = {"team": "data", GUARD_TAG_KEY: guard_tag or g.guard_tag, REASON_TAG_KEY: "before-update"}
    if token:
        tags[fsx.TOKEN_TAG_KEY] = token
    backup = make_backup(bid, lifecycle, tags=tags)
    backup["CreationTime"] = at(minutes)
    return backup


def expect_listing(stub: Stubber, backups: Sequence[dict[str, Any]] = (), *, volume: bool = False) -> None:
    target = {"Name": "volume-id", "Values": [VOL_ID]} if volume else {"Name": "file-system-id", "Values": [FS_ID]}
    stub.add_response("describe_backups", {"Backups": list(backups)},
                      expected_params={"Filters": [USER_INITIATED, target]})


def expect_create(stub: Stubber, backup: dict[str, Any]) -> None:
    """The token is derived from the guard, the resource and the change: recorded, not pinned here."""
    stub.add_response("create_backup", {"Backup": backup},
                      expected_params={"FileSystemId": FS_ID, "ClientRequestToken": ANY, "Tags": ANY})


def expect_delete(stub: Stubber, bid: str, error: Optional[str] = None) -> None:
    params = {"BackupId": bid, "ClientRequestToken": delete_token(bid)}
    if error:
        stub.add_client_error("delete_backup", error, f"{error} message", expected_params=params)
    else:
        stub.add_response("delete_backup", {"BackupId": bid, "Lifecycle": "DELETED"}, expected_params=params)


def run_async(awaitable: Any) -> Any:
    """Run a hook as the engine's callback server would, on a loop of its own. Not asyncio.run: that
    leaves the main thread without an event loop, which later pulumi mocks (tests/component) need."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(awaitable)
    finally:
        loop.run_until_complete(loop.shutdown_default_executor())
        loop.close()


def sent_token(env: GuardEnv, n: int = -1) -> str:
    return str(env.creates[n]["ClientRequestToken"])


# -------------------------------------------------------------------------------------------------
# the hooks


def test_both_hooks_also_run_on_dry_runs(env: GuardEnv) -> None:
    g = guard()
    binding = g.hooks
    (update_hook,) = binding.before_update or []
    (delete_hook,) = binding.before_delete or []
    for hook in (update_hook, delete_hook):
        assert isinstance(hook, FakeHook) and hook.opts is not None and hook.opts.on_dry_run is True
    assert guard("no-delete", before_delete=False).hooks.before_delete is None


def test_a_backup_is_tagged_with_the_guard_and_the_reason(env: GuardEnv) -> None:
    g = guard(tags={"team": "data"})
    expect_listing(env.stubber)
    expect_create(env.stubber, guard_backup(g, backup_id(1), 1))
    assert g.take(change(125, 250), "before-update") == backup_id(1)
    tags = {t["Key"]: t["Value"] for t in env.creates[0]["Tags"]}
    assert tags == {"team": "data", GUARD_TAG_KEY: g.guard_tag, REASON_TAG_KEY: "before-update",
                    fsx.TOKEN_TAG_KEY: sent_token(env)}
    assert g.backups_taken == [backup_id(1)] and env.regions == ["us-east-1"]


# -------------------------------------------------------------------------------------------------
# which backup belongs to this change: the stale rule (A.3)


def test_the_same_change_repeated_later_takes_a_fresh_backup(env: GuardEnv) -> None:
    """125 -> 250, then 250 -> 125, then 125 -> 250 again. The third change derives the first one's
    token and finds its backup by the token tag, but this guard has a newer backup of the file system
    (the second change's): the found one is stale, and a fresh backup is taken before the update."""
    g = guard()
    b1, b2, b3 = backup_id(1), backup_id(2), backup_id(3)

    expect_listing(env.stubber)
    expect_create(env.stubber, guard_backup(g, b1, 1))
    assert g.take(change(125, 250), "before-update") == b1
    first = guard_backup(g, b1, 1, token=sent_token(env))

    expect_listing(env.stubber, [first])
    expect_create(env.stubber, guard_backup(g, b2, 2))
    assert g.take(change(250, 125), "before-update") == b2
    second = guard_backup(g, b2, 2, token=sent_token(env))
    assert sent_token(env, 1) != sent_token(env, 0)

    expect_listing(env.stubber, [second, first])
    expect_create(env.stubber, guard_backup(g, b3, 3))
    assert g.take(change(125, 250), "before-update") == b3  # not b1: the update gets a fresh backup
    assert len(set(sent_token(env, n) for n in range(3))) == 3
    assert g.backups_taken == [b1, b2, b3]

    # The third change interrupted and retried: its own backup is the newest, and is adopted (by its
    # tag, without CreateBackup), while the first change's stays stale.
    third = guard_backup(g, b3, 3, token=sent_token(env), lifecycle="CREATING")
    expect_listing(env.stubber, [first, third, second])
    env.stubber.add_response("describe_backups", {"Backups": [{**third, "Lifecycle": "AVAILABLE"}]},
                             expected_params={"BackupIds": [b3]})
    assert g.take(change(125, 250), "before-update") == b3
    assert len(env.creates) == 3


def test_a_retried_change_adopts_its_own_backup(env: GuardEnv) -> None:
    g = guard()
    expect_listing(env.stubber)
    expect_create(env.stubber, guard_backup(g, backup_id(1), 1, lifecycle="CREATING"))
    env.stubber.add_response("describe_backups", {"Backups": [guard_backup(g, backup_id(1), 1)]})
    g.take(change(125, 250), "before-update")
    mine = guard_backup(g, backup_id(1), 1, token=sent_token(env))
    expect_listing(env.stubber, [mine, guard_backup(g, backup_id(9), 0)])  # an older one is no reason
    assert guard().take(change(125, 250), "before-update") == backup_id(1)
    assert len(env.creates) == 1


def test_only_this_guards_newer_backups_make_a_found_backup_stale(env: GuardEnv) -> None:
    g = guard()
    found = guard_backup(g, backup_id(1), 5)
    assert g._older_than_newest(found, [found]) is False
    assert g._older_than_newest(found, [found, guard_backup(g, backup_id(2), 4)]) is False
    assert g._older_than_newest(found, [found, guard_backup(g, backup_id(3), 6, guard_tag="other/stack/guard")]) is False
    untagged = make_backup(backup_id(4), "AVAILABLE")
    untagged["CreationTime"] = at(9)
    assert g._older_than_newest(found, [found, untagged]) is False
    assert g._older_than_newest(found, [found, guard_backup(g, backup_id(5), 6)]) is True


def test_a_different_guard_with_the_same_target_never_shares_tokens(env: GuardEnv) -> None:
    a, b = guard("a"), guard("b")
    for g, bid in ((a, backup_id(1)), (b, backup_id(2))):
        expect_listing(env.stubber)
        expect_create(env.stubber, guard_backup(g, bid, 1))
        g.take(change(125, 250), "before-update")
    assert sent_token(env, 0) != sent_token(env, 1)


# -------------------------------------------------------------------------------------------------
# keep_last: best effort, this guard's backups only, by age (A.5)


def test_prune_keeps_the_newest_of_this_guard_and_never_touches_others(env: GuardEnv) -> None:
    g = guard(keep_last=2)
    new = guard_backup(g, backup_id(10), 10)
    g1, g2, g3 = (guard_backup(g, backup_id(n), n) for n in (1, 2, 3))
    creating = guard_backup(g, backup_id(4), 4, lifecycle="CREATING")
    others = guard_backup(g, backup_id(5), 0, guard_tag="other-project/dev/guard")
    plain = make_backup(backup_id(6), "AVAILABLE")
    listing = [g2, new, others, g1, plain, creating, g3]
    random.Random(5).shuffle(listing)
    expect_listing(env.stubber)
    expect_create(env.stubber, new)
    expect_listing(env.stubber, listing)
    expect_delete(env.stubber, backup_id(2))  # newest first beyond the kept two: g2, then g1
    expect_delete(env.stubber, backup_id(1))
    assert g.take(change(125, 250), "before-update") == backup_id(10)
    assert env.warnings == []


def test_a_refused_delete_while_pruning_warns_and_the_change_goes_ahead(env: GuardEnv) -> None:
    g = guard(keep_last=1)
    new = guard_backup(g, backup_id(10), 10)
    expect_listing(env.stubber)
    expect_create(env.stubber, new)
    expect_listing(env.stubber, [guard_backup(g, backup_id(1), 1), new, guard_backup(g, backup_id(2), 2)])
    expect_delete(env.stubber, backup_id(2), error="AccessDeniedException")
    expect_delete(env.stubber, backup_id(1))
    assert g.take(change(125, 250), "before-update") == backup_id(10)  # no exception
    (warning,) = env.warnings
    assert "keep_last=1" in warning and backup_id(2) in warning and "AccessDeniedException" in warning
    assert backup_id(1) not in warning


def test_a_busy_backup_is_kept_past_the_deadline_with_a_warning(env: GuardEnv) -> None:
    g = guard(keep_last=1, timeout_seconds=10)
    expect_listing(env.stubber, [guard_backup(g, backup_id(1), 1), guard_backup(g, backup_id(10), 10)])
    for _ in range(3):  # at +0, +5 and +10 s: the deadline
        expect_delete(env.stubber, backup_id(1), error="BackupInProgress")
    assert g.prune(env.client, file_system_id=FS_ID, volume_id=None, keep_id=backup_id(10)) == []
    (warning,) = env.warnings
    assert backup_id(1) in warning and "BackupInProgress" in warning
    assert env.clock.sleeps == [5.0, 5.0]  # fake time: the pauses moved the clock, nothing slept


def test_a_failed_listing_while_pruning_warns_and_the_change_goes_ahead(env: GuardEnv) -> None:
    g = guard(keep_last=1)
    expect_listing(env.stubber)
    expect_create(env.stubber, guard_backup(g, backup_id(10), 10))
    env.stubber.add_client_error("describe_backups", "AccessDeniedException", "not allowed to list")
    assert g.take(change(125, 250), "before-update") == backup_id(10)
    (warning,) = env.warnings
    assert backup_id(10) in warning and "keep_last=1" in warning and "not allowed to list" in warning


def test_prune_orders_by_age_and_keeps_the_new_backup_first(env: GuardEnv) -> None:
    """The backup just taken counts first even when another of this guard's looks newer (an
    adopted backup's CreationTime is the interrupted run's)."""
    g = guard(keep_last=2)
    listing = [guard_backup(g, backup_id(n), minutes) for n, minutes in ((1, 30), (2, 10), (3, 20), (4, 40), (5, 5))]
    random.Random(9).shuffle(listing)
    expect_listing(env.stubber, listing)
    for n in (3, 2, 5):  # beyond the kept backup_id(1) (kept) and backup_id(4) (newest): by age, newest first
        expect_delete(env.stubber, backup_id(n))
    pruned = g.prune(env.client, file_system_id=FS_ID, volume_id=None, keep_id=backup_id(1))
    assert pruned == [backup_id(3), backup_id(2), backup_id(5)]


def test_without_keep_last_nothing_is_listed_for_pruning(env: GuardEnv) -> None:
    g = guard()
    expect_listing(env.stubber, [guard_backup(g, backup_id(n), n) for n in range(1, 5)])
    expect_create(env.stubber, guard_backup(g, backup_id(10), 10))
    g.take(change(125, 250), "before-update")  # Stubber: no second listing, no delete


# -------------------------------------------------------------------------------------------------
# what the guard may be attached to


def test_a_guard_on_another_resource_type_is_refused_before_any_call(env: GuardEnv) -> None:
    args = pulumi.ResourceHookArgs(urn="urn:pulumi:dev::proj::aws:s3/bucket:Bucket::logs", id="logs",
                                   name="logs", type="aws:s3/bucket:Bucket")
    with pytest.raises(InvalidInputError) as info:
        guard().take(args, "before-update")
    assert info.value.property_name == "hooks"
    assert "aws:s3/bucket:Bucket" in info.value.reason and "LustreFileSystem" in info.value.reason
    env.dry_run = True
    with pytest.raises(InvalidInputError):
        run_async(guard()._before_update(args))
    assert env.regions == []


@pytest.mark.parametrize("typ,expected", [
    (LUSTRE, (FS_ID, None)),
    ("aws:fsx/windowsFileSystem:WindowsFileSystem", (FS_ID, None)),
    ("aws:fsx/openZfsFileSystem:OpenZfsFileSystem", (FS_ID, None)),
    (ONTAP_VOLUME, (None, FS_ID)),
    ("aws:fsx/ontapFileSystem:OntapFileSystem", (FS_ID, None)),  # backed up volume by volume
])
def test_targets_of_the_fsx_types(typ: str, expected: tuple[Optional[str], Optional[str]]) -> None:
    args = pulumi.ResourceHookArgs(urn="urn:x", id=FS_ID, name="x", type=typ)
    assert prechange._target_of(args) == expected


def test_a_resource_fsx_cannot_back_up_is_refused_naming_what_can_be_guarded(env: GuardEnv) -> None:
    args = pulumi.ResourceHookArgs(urn="urn:x", id=FS_ID, name="cache", type="aws:fsx/fileCache:FileCache")
    with pytest.raises(InvalidInputError, match="OntapFileSystem or OntapVolume"):
        prechange._target_of(args)


# -------------------------------------------------------------------------------------------------
# dry runs: a guard that can never succeed fails the preview, read-only (A.5)


def run_hook(g: PreChangeBackup, args: pulumi.ResourceHookArgs, which: str = "update") -> None:
    hook = g._before_update if which == "update" else g._before_delete
    run_async(hook(args))


@pytest.mark.parametrize("which", ["update", "delete"])
@pytest.mark.parametrize("fs_kwargs,fragment", [
    ({"deployment": "SCRATCH_2"}, "SCRATCH_2"),
    ({"import_path": "s3://bucket/in"}, "s3://bucket/in"),
])
def test_a_dry_run_fails_for_a_lustre_file_system_fsx_cannot_back_up(
    env: GuardEnv, which: str, fs_kwargs: dict[str, Any], fragment: str
) -> None:
    env.dry_run = True
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, **fs_kwargs)]},
                             expected_params={"FileSystemIds": [FS_ID]})
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    g = guard()
    with pytest.raises(IneligibleTargetError) as info:
        run_hook(g, change(125, 250), which)  # Stubber: nothing but the reads is queued
    assert fragment in str(info.value) and "'guard'" in str(info.value) and "data" in str(info.value)
    assert g.backups_taken == []


def test_a_dry_run_fails_for_a_dp_volume(env: GuardEnv) -> None:
    env.dry_run = True
    env.stubber.add_response("describe_volumes", {"Volumes": [make_volume(VOL_ID, ontap_type="DP")]},
                             expected_params={"VolumeIds": [VOL_ID]})
    args = pulumi.ResourceHookArgs(urn=VOL_URN, id=VOL_ID, name="vol", type=ONTAP_VOLUME)
    with pytest.raises(IneligibleTargetError, match="DP"):
        run_hook(guard(), args)


def test_a_dry_run_of_an_eligible_target_only_reads(env: GuardEnv) -> None:
    env.dry_run = True
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID)]})
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    g = guard(keep_last=1)
    run_hook(g, change(125, 250))
    assert g.backups_taken == [] and env.creates == []


def test_a_dry_run_of_a_missing_target_says_so(env: GuardEnv) -> None:
    env.dry_run = True
    env.stubber.add_client_error("describe_volumes", "VolumeNotFound", "no such volume")
    args = pulumi.ResourceHookArgs(urn=VOL_URN, id=VOL_ID, name="vol", type=ONTAP_VOLUME)
    with pytest.raises(TargetNotFoundError, match=VOL_ID):
        run_hook(guard(), args)


def test_a_dry_run_of_a_resource_not_created_yet_makes_no_call(env: GuardEnv) -> None:
    env.dry_run = True
    run_hook(guard(), pulumi.ResourceHookArgs(urn=FS_URN, id="", name="data", type=LUSTRE))


# -------------------------------------------------------------------------------------------------
# the real run: the backup is AVAILABLE before the hook returns; a target already gone


def test_the_update_hook_returns_once_the_backup_is_available(env: GuardEnv) -> None:
    g = guard()
    expect_listing(env.stubber)
    expect_create(env.stubber, guard_backup(g, backup_id(1), 1, lifecycle="CREATING"))
    env.stubber.add_response("describe_backups", {"Backups": [guard_backup(g, backup_id(1), 1)]},
                             expected_params={"BackupIds": [backup_id(1)]})
    run_hook(g, change(125, 250))
    assert g.backups_taken == [backup_id(1)]
    assert any(backup_id(1) in m and "AVAILABLE" in m for m in env.infos)


def test_a_target_already_gone_fails_an_update_but_not_a_delete(env: GuardEnv) -> None:
    for _ in ("update", "delete"):
        expect_listing(env.stubber)
        env.stubber.add_client_error("create_backup", "FileSystemNotFound", "gone")
    with pytest.raises(TargetNotFoundError):
        run_hook(guard(), change(125, 250), "update")
    run_hook(guard(), change(125, 250), "delete")  # nothing is left to back up: the destroy goes on
    assert any(FS_ID in w and "no backup taken" in w for w in env.warnings)


# -------------------------------------------------------------------------------------------------
# where and as whom (issue 11): the guarded resource's region, a provider handed to the guard


class FakeProvider:
    """The outputs of an ``aws.Provider`` the guard reads (plain values: already resolved)."""

    def __init__(self, region: Optional[str] = None, profile: Optional[str] = None) -> None:
        self.region, self.profile = region, profile


def settings_for(g: PreChangeBackup, **outputs: Any) -> AwsSettings:
    args = pulumi.ResourceHookArgs(urn=FS_URN, id=FS_ID, name="data", type=LUSTRE, old_outputs=outputs)
    # Not asyncio.run: it leaves the thread without a current loop, which later set_mocks tests need.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(g._settings_for(args))
    finally:
        loop.close()


WEST_ARN = f"arn:aws:fsx:us-west-2:123456789012:file-system/{FS_ID}"


@pytest.mark.parametrize("kwargs,outputs,region", [
    ({}, {"arn": WEST_ARN}, "us-west-2"),  # the guarded resource's ARN
    ({}, {"region": "eu-west-1", "arn": WEST_ARN}, "eu-west-1"),  # pulumi-aws v7's region output first
    ({"provider": FakeProvider(region="ap-south-1")}, {}, "ap-south-1"),  # then the guard's provider
    ({"provider": FakeProvider(region="ap-south-1")}, {"arn": WEST_ARN}, "us-west-2"),
    ({"region": "ca-central-1", "provider": FakeProvider(region="ap-south-1")}, {"arn": WEST_ARN}, "ca-central-1"),
])
def test_the_guard_follows_the_guarded_resource_then_its_provider(
    env: GuardEnv, kwargs: dict[str, Any], outputs: dict[str, Any], region: str
) -> None:
    kwargs.setdefault("region", None)
    assert settings_for(guard(**kwargs), **outputs).region == region


def test_the_guard_takes_credentials_settings_from_its_provider_and_arguments(env: GuardEnv) -> None:
    role = "arn:aws:iam::222222222222:role/backup"
    g = guard(region=None, provider=FakeProvider(profile="prod"), assume_roles=[{"role_arn": role}],
              shared_credentials_files=["/etc/aws/credentials"])
    settings = settings_for(g, arn=WEST_ARN)
    assert settings.profile == "prod" and [r.role_arn for r in settings.assume_roles] == [role]
    assert settings.shared_credentials_file == "/etc/aws/credentials"


def test_a_backup_is_taken_where_and_as_whom_the_settings_say(env: GuardEnv) -> None:
    g = guard(region=None, provider=FakeProvider(profile="prod"))
    settings = settings_for(g, arn=WEST_ARN)
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "LUSTRE")]})
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    g.check(change(125, 250), settings)
    assert env.regions == ["us-west-2"] and env.settings[0].profile == "prod"


@pytest.mark.parametrize("kwargs,prop", [
    ({"assume_roles": [{"role_arn": "not-an-arn"}]}, "assume_roles[0].role_arn"),
    ({"shared_config_files": ["a", "b"]}, "shared_config_files"),
])
def test_bad_guard_settings_fail_at_construction_naming_the_argument(
    env: GuardEnv, kwargs: dict[str, Any], prop: str
) -> None:
    with pytest.raises(InvalidInputError, match=rf"^{re.escape(prop)}: "):
        guard(**kwargs)


def test_check_and_take_called_without_settings_use_the_guards_own_region(env: GuardEnv) -> None:
    g = guard(region="eu-north-1")
    env.stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "LUSTRE")]})
    env.stubber.add_response("describe_data_repository_associations", {"Associations": []})
    g.check(change(125, 250))
    assert env.regions == ["eu-north-1"]  # not AWS_REGION (us-east-1)
