"""lookups.py (target descriptions -> eligibility facts, coalesced) and the runtime's shared look-ups."""

from __future__ import annotations

import threading
import time
from typing import Any

from botocore.stub import Stubber
from unit_helpers import FS_ID, VOL_ID, FakeClock, make_file_system, make_volume

from fsx_backup_component.lookups import TargetLookups
from fsx_backup_component.runtime import Runtime

# -------------------------------------------------------------------------------------------------
# TargetLookups


def test_lookups_turn_descriptions_into_facts(client: Any, stubber: Stubber) -> None:
    stubber.add_response("describe_file_systems", {"FileSystems": [
        make_file_system(FS_ID, "LUSTRE", deployment="PERSISTENT_1", import_path="s3://b/in")]},
        expected_params={"FileSystemIds": [FS_ID]})
    stubber.add_response("describe_data_repository_associations", {"Associations": []})
    stubber.add_response("describe_volumes", {"Volumes": [make_volume(VOL_ID, ontap_type="DP")]},
                         expected_params={"VolumeIds": [VOL_ID]})
    clock = FakeClock()
    lookups = TargetLookups(client, clock=clock, wait=clock.condition_wait)
    facts = lookups.file_system(FS_ID)
    assert facts is not None
    assert (facts.file_system_type, facts.deployment_type, facts.import_path, facts.lifecycle,
            facts.data_repository_association_count) == ("LUSTRE", "PERSISTENT_1", "s3://b/in", "AVAILABLE", 0)
    volume = lookups.volume(VOL_ID)
    assert volume is not None and (volume.volume_type, volume.ontap_volume_type) == ("ONTAP", "DP")
    assert lookups.file_system(FS_ID) == facts  # cached: Stubber has no second answer


def test_lookups_of_non_lustre_skip_associations_and_missing_is_none(client: Any, stubber: Stubber) -> None:
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS", deployment="MULTI_AZ_1")]})
    stubber.add_client_error("describe_volumes", "VolumeNotFound", "no")
    clock = FakeClock()
    lookups = TargetLookups(client, clock=clock, wait=clock.condition_wait)
    facts = lookups.file_system(FS_ID)
    assert facts is not None and facts.deployment_type == "MULTI_AZ_1" and facts.data_repository_association_count == 0
    assert lookups.volume(VOL_ID) is None


def test_runtime_fake_sleep_reaches_the_look_ups_without_spinning(client: Any) -> None:
    clock = FakeClock(start=1000.0)
    stubber = Stubber(client)
    stubber.activate()
    stubber.add_response("describe_file_systems", {"FileSystems": [make_file_system(FS_ID, "WINDOWS")]})
    lookups = Runtime(clock=clock, sleep=clock.sleep).lookups(client)
    outcome: list[Any] = []
    worker = threading.Thread(target=lambda: outcome.append(lookups.file_system(FS_ID)), daemon=True)
    worker.start()
    worker.join(1.0)
    finished = not worker.is_alive()
    if not finished:  # free the spinning thread: a clock well past the window lets it fetch and end
        clock.advance(1.0)
        worker.join(5)
    assert finished and outcome[0] is not None and outcome[0].file_system_type == "WINDOWS"


class _CountingFsx:
    """Just enough of an FSx client for DescribeFileSystems by IDs: one page, every call recorded."""

    def __init__(self, file_systems: list[dict[str, Any]]) -> None:
        self.by_id = {fs["FileSystemId"]: fs for fs in file_systems}
        self.calls: list[list[str]] = []

    def can_paginate(self, _operation: str) -> bool:
        return False

    def describe_file_systems(self, *, FileSystemIds: list[str]) -> dict[str, Any]:  # noqa: N803 - AWS's name
        self.calls.append(sorted(FileSystemIds))
        return {"FileSystems": [self.by_id[i] for i in FileSystemIds]}


def test_concurrent_checks_share_one_describe_file_systems_with_the_default_window() -> None:
    """Three checks of three file systems arriving together (a preview of a three-backup stack) make
    one DescribeFileSystems between them: the production wiring (Runtime.lookups, the Coalescer's
    default window), with a clock frozen until every caller has queued its ID."""
    ids = [f"fs-0123456789abcde{n:02x}" for n in range(3)]
    client = _CountingFsx([make_file_system(i, "WINDOWS", deployment="MULTI_AZ_1") for i in ids])
    clock = FakeClock()
    lookups = Runtime(clock=clock, wait=lambda condition, _seconds: condition.wait(0.005)).lookups(client)
    results: dict[str, Any] = {}
    threads = [
        threading.Thread(target=lambda i=i: results.update({i: lookups.file_system(i)}), daemon=True) for i in ids
    ]
    for thread in threads:
        thread.start()
    queued = lookups._file_systems._queued
    deadline = time.monotonic() + 10
    # Every caller queued (a zero window would have fetched the first one alone already).
    while len(queued) < len(ids) and not client.calls and time.monotonic() < deadline:
        time.sleep(0.001)
    clock.advance(1.0)  # well past any window
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()
    assert client.calls == [sorted(ids)], "concurrent checks did not share one DescribeFileSystems"
    assert all(results[i] is not None and results[i].file_system_type == "WINDOWS" for i in ids)
