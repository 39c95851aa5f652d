"""LifeProvider (life.py): the nonce of one life of a backup, stored in state before its first
CreateBackup. No AWS call; the engine's calls are made directly, as the dynamic host makes them."""

from __future__ import annotations

import base64

import dill
from pulumi.dynamic.dynamic import serialize_provider
from unit_helpers import outs_of

from fsx_backup_component.life import GENERATION, NONCE, LifeProvider


def test_each_life_gets_a_fresh_nonce_that_is_also_its_id() -> None:
    first = LifeProvider().create({GENERATION: "g1"})
    second = LifeProvider().create({GENERATION: "g1"})
    assert first.id == outs_of(first)[NONCE] and len(first.id) >= 32
    assert outs_of(first)[GENERATION] == "g1"
    assert first.id != second.id  # same generation, another life: destroy then up, or another stack


def test_a_new_generation_is_a_new_life() -> None:
    created = outs_of(LifeProvider().create({GENERATION: "g1"}))
    changed = LifeProvider().diff(created[NONCE], created, {GENERATION: "g2"})
    assert changed.changes is True and changed.replaces == [GENERATION]
    assert changed.delete_before_replace is False
    same = LifeProvider().diff(created[NONCE], created, {GENERATION: "g1"})
    assert same.changes is False and same.replaces == []
    assert NONCE in (same.stables or [])


def test_the_nonce_survives_read_and_update() -> None:
    created = LifeProvider().create({GENERATION: "g1"})
    read = LifeProvider().read(created.id, dict(outs_of(created)))
    assert (read.id, outs_of(read)[NONCE]) == (created.id, created.id)
    assert outs_of(LifeProvider().read(created.id, {GENERATION: "g1"}))[NONCE] == created.id  # older state: the ID
    updated = LifeProvider().update(created.id, dict(outs_of(created)), {GENERATION: "g1"})
    assert outs_of(updated)[NONCE] == created.id


def test_check_keeps_only_the_generation() -> None:
    result = LifeProvider().check({}, {GENERATION: "g1", "__provider": "x", NONCE: None})
    assert result.inputs == {GENERATION: "g1"} and result.failures == []


def test_delete_makes_no_call() -> None:
    LifeProvider().delete("nonce", {GENERATION: "g1"})  # nothing to delete outside the state: no client, no call


def test_the_pickled_provider_is_small_by_reference_and_stateless() -> None:
    raw = dill.dumps(LifeProvider(), recurse=True)
    assert b"fsx_backup_component.life" in raw
    assert len(base64.b64encode(raw)) <= 256 and len(serialize_provider(LifeProvider())) <= 256
    assert LifeProvider().__getstate__() == {}
