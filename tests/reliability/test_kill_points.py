"""Guarantee: killing the provider process at any point of create, update or delete, then running the
operation again, never makes a second backup, never leaves an orphan, and the stack converges.

The provider (the real `python -m pulumi.dynamic` host) is SIGKILLed, as when `pulumi up` is killed:
the engine journals the operation as pending and the next run redoes it with the same inputs
(pulumi/pulumi#11599). Kill points are drawn from a seeded RNG over emulator call counts (the k-th
CreateBackup / DescribeBackups / TagResource / UntagResource / DeleteBackup / DescribeFileSystems
request: FSx serves it, the provider never sees the answer) and over RPC in-flight times.

Each seed drives one 3-backup stack (Lustre, Windows, ONTAP volume) through
create (killed twice, then re-run) -> update of tags (killed twice, then re-run) ->
destroy (killed twice, then re-run): KILLS_PER_SEED kill points per seed.
"""

from __future__ import annotations

import random
from typing import Any, Callable

import pytest
from reliability_helpers import (
    BACKUP_TYPE,
    BackupSpec,
    KillPoint,
    assert_converged,
    assert_no_duplicates,
    assert_no_orphans,
    backup_target,
    backups_per_target,
    live_backups,
    make_target,
    provider_kills,
    stack_program,
    state_backup_ids,
    target_id,
    wait_emulator_idle,
)

from tests.harness import plain

KILL_SEEDS = (101, 202, 303, 404)
STACK_KINDS = ("lustre", "windows", "ontap-volume")
TAGS_BEFORE = {"team": "data", "env": "prod"}
TAGS_AFTER = {"team": "ops"}  # untags `env`, retags `team`: UntagResource and TagResource
KILLS_PER_PHASE = 2
PHASES = ("create", "update", "delete")
KILLS_PER_SEED = KILLS_PER_PHASE * len(PHASES)
TOTAL_KILL_POINTS = KILLS_PER_SEED * len(KILL_SEEDS)


# -- kill point choice: only points that are certain to be reached in that run ------------------


def create_kill(rng: random.Random, missing: int, fresh: bool, unstarted: int) -> KillPoint:
    """``missing`` backup resources still to create, ``unstarted`` of them with no backup in FSx
    yet (a create finds a started one by its token tag and sends no CreateBackup); ``fresh``:
    nothing of them exists in FSx yet (so every create really waits: its first polls and a
    long-enough Create RPC are certain). Weighted towards points after a write; one in-Check point
    (before any write) is possible."""
    if not fresh:
        if unstarted == 0:  # every create adopts: a token-tag listing is certain
            # Concurrent creates share their listings (lookups.py): one call is certain, not one per
            # create. The draw is kept so that every seed's later kill points stay what they were.
            rng.randint(1, missing)
            return KillPoint("create", operation="DescribeBackups", count=1)
        return KillPoint("create", operation="CreateBackup", count=rng.randint(1, unstarted))
    options = [
        KillPoint("create", operation="CreateBackup", count=rng.randint(1, missing)),
        KillPoint("create", operation="DescribeBackups", count=rng.randint(1, 2)),
        KillPoint("create", method="Create", seconds=round(rng.uniform(0.05, 0.8), 2)),
        KillPoint("create", operation="DescribeFileSystems", count=1),  # in Check, before any write
    ]
    return rng.choices(options, weights=[3, 2, 2, 1])[0]


def update_kill(rng: random.Random, pending: int, first: bool) -> KillPoint:
    """``pending`` resources whose tag update has not been recorded in state. Every Update reads
    its backup first (DescribeBackups); on the first attempt every one also untags and tags."""
    options = [KillPoint("update", operation="DescribeBackups", count=rng.randint(1, pending))]
    if first:
        options += [
            KillPoint("update", operation="UntagResource", count=rng.randint(1, pending)),
            KillPoint("update", operation="TagResource", count=rng.randint(1, pending)),
        ]
    return rng.choice(options)


def delete_kill(rng: random.Random, remaining: int) -> KillPoint:
    """Every Delete sends DeleteBackup, even for a backup an earlier, killed attempt deleted."""
    return KillPoint("delete", operation="DeleteBackup", count=rng.randint(1, remaining))


# -- the scenario ---------------------------------------------------------------------------------


def _cut(h: Any, emu: Any, point: KillPoint, run: Callable[[], Any], fired: list[str]) -> Any:
    point.arm(h)
    result = run()
    wait_emulator_idle(emu)  # the request the kill cut is still served on the emulator's thread
    assert provider_kills(h, result.number) == 1, f"kill point {point.describe()} was not reached"
    assert not result.ok, f"{point.describe()}: a killed run must fail"
    assert any("interrupted" in e for e in result.errors.values()), result.errors
    fired.append(point.describe())
    return result


def _at_most_one_per_target(emu: Any) -> None:
    twice = {t: n for t, n in backups_per_target(emu).items() if n > 1}
    assert not twice, f"second backups made: {twice}"


def _backup_resources(h: Any) -> dict[str, Any]:
    return {u: r for u, r in h.state.resources.items() if r.type == BACKUP_TYPE}


@pytest.mark.parametrize("seed", KILL_SEEDS)
def test_killed_provider_never_duplicates_nor_orphans(
    seed: int, emu: Any, harness: Callable[..., Any], ledger: Any
) -> None:
    rng = random.Random(seed)
    specs = [BackupSpec(f"{kind}-k", make_target(emu, kind)) for kind in STACK_KINDS]
    targets = [target_id(s.target) for s in specs]
    before = stack_program(specs, tags=TAGS_BEFORE)
    after = stack_program(specs, tags=TAGS_AFTER)
    h = harness()
    fired: list[str] = []

    # -- create -------------------------------------------------------------------------------
    for attempt in range(KILLS_PER_PHASE):
        missing = len(specs) - len(_backup_resources(h))
        assert missing > 0, "every backup completed before the kill: nothing left to interrupt"
        started = {backup_target(b) for b in live_backups(emu)}
        unstarted = sum(1 for t in targets if t not in started)
        point = create_kill(rng, missing, fresh=attempt == 0, unstarted=unstarted)
        _cut(h, emu, point, lambda: h.up(before), fired)
        _at_most_one_per_target(emu)
    up = h.up(before)
    assert up.ok, up.error_text()
    assert_no_duplicates(emu, targets)
    assert_no_orphans(h, emu)
    assert all(b["Lifecycle"] == "AVAILABLE" for b in live_backups(emu))
    assert_converged(h, before)
    created = {u: r.id for u, r in _backup_resources(h).items()}

    # -- update (tags) ------------------------------------------------------------------------
    for attempt in range(KILLS_PER_PHASE):
        pending = sum(1 for r in _backup_resources(h).values() if plain(r.outputs.get("managed_tags")) != TAGS_AFTER)
        assert pending > 0, "every update completed before the kill"
        point = update_kill(rng, pending, first=attempt == 0)
        _cut(h, emu, point, lambda: h.up(after), fired)
        _at_most_one_per_target(emu)
    up = h.up(after)
    assert up.ok, up.error_text()
    assert {u: r.id for u, r in _backup_resources(h).items()} == created, "tags are updated in place"
    for backup in live_backups(emu):
        user_tags = {t["Key"]: t["Value"] for t in backup.get("Tags") or [] if not t["Key"].startswith("fsx-backup")}
        assert user_tags == TAGS_AFTER, (backup["BackupId"], user_tags)
    assert_no_duplicates(emu, targets)
    assert_no_orphans(h, emu)
    assert_converged(h, after)

    # -- delete -------------------------------------------------------------------------------
    for _ in range(KILLS_PER_PHASE):
        remaining = len(_backup_resources(h))
        assert remaining > 0, "every delete completed before the kill"
        point = delete_kill(rng, remaining)
        _cut(h, emu, point, h.destroy, fired)
        # The state may still list a backup the cut DeleteBackup removed; FSx never has one the
        # state does not know.
        assert {b["BackupId"] for b in live_backups(emu)} <= set(state_backup_ids(h).values())
    h.destroy().raise_for_errors()
    assert h.state.resources == {}
    assert live_backups(emu) == []
    assert_no_duplicates(emu, targets)  # exactly one backup per target ever made, now DELETED

    assert len(fired) == KILLS_PER_SEED
    ledger.record(
        "kill-points",
        seeds=[seed],
        kill_points=len(fired),
        points=fired,
        backups=len(specs),
        duplicates=sum(max(0, n - 1) for n in backups_per_target(emu).values()),
    )
