"""Property tests of the ClientRequestToken derivation (token.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import fast_settings

from fsx_backup_component.token import (
    MAX_TOKEN_ATTEMPTS,
    delete_token,
    derive_token,
    generation_key,
)

# The CreateBackup model: 1-63 characters, [A-Za-z0-9_.-] (the model's `A-z` typo is not honoured).
TOKEN_RE = re.compile(r"\A[A-Za-z0-9_.-]{1,63}\Z")

urns = st.text(min_size=1, max_size=300)
fs_ids = st.from_regex(r"\Afs-[0-9a-f]{8,18}\Z")
vol_ids = st.from_regex(r"\Afsvol-[0-9a-f]{17}\Z")
json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
triggers = st.dictionaries(st.text(max_size=10), json_scalars, max_size=6)
attempts = st.integers(min_value=0, max_value=MAX_TOKEN_ATTEMPTS * 4)


@st.composite
def generations(draw: Any) -> str:
    if draw(st.booleans()):
        return generation_key(file_system_id=draw(fs_ids), volume_id=None, triggers=draw(triggers))
    return generation_key(file_system_id=None, volume_id=draw(vol_ids), triggers=draw(triggers))


@fast_settings()
@given(urn=urns, generation=generations(), attempt=attempts)
def test_token_always_matches_the_model(urn: str, generation: str, attempt: int) -> None:
    token = derive_token(urn, generation, attempt)
    assert TOKEN_RE.match(token), token


@fast_settings()
@given(urn=urns, generation=generations(), attempt=attempts)
def test_token_is_deterministic(urn: str, generation: str, attempt: int) -> None:
    assert derive_token(urn, generation, attempt) == derive_token(urn, generation, attempt)


@fast_settings()
@given(a=urns, b=urns, generation=generations())
def test_distinct_urns_give_distinct_tokens(a: str, b: str, generation: str) -> None:
    if a != b:
        assert derive_token(a, generation) != derive_token(b, generation)


@fast_settings()
@given(urn=urns, g1=generations(), g2=generations())
def test_distinct_generations_give_distinct_tokens(urn: str, g1: str, g2: str) -> None:
    if g1 != g2:
        assert derive_token(urn, g1) != derive_token(urn, g2)


@fast_settings()
@given(urn=urns, generation=generations())
def test_every_attempt_has_its_own_token(urn: str, generation: str) -> None:
    tokens = [derive_token(urn, generation, n) for n in range(MAX_TOKEN_ATTEMPTS)]
    assert len(set(tokens)) == MAX_TOKEN_ATTEMPTS


def test_attempt_zero_is_the_default() -> None:
    assert derive_token("urn:x", "g") == derive_token("urn:x", "g", 0)


def test_negative_attempt_is_refused() -> None:
    with pytest.raises(ValueError, match="attempt must be >= 0"):
        derive_token("urn:x", "g", -1)


def test_token_value_is_pinned() -> None:
    """Changing the derivation would make every existing stack's interrupted create take a second
    backup: the formula is frozen."""
    assert derive_token("urn:a", "g", 0) == "fsxb-" + __import__("hashlib").sha256(
        b"urn:a\x00g\x000"
    ).hexdigest()[:40]


@fast_settings()
@given(
    items=st.dictionaries(st.text(max_size=8), json_scalars, min_size=2, max_size=8),
    seed=st.randoms(use_true_random=False),
)
def test_generation_key_ignores_dict_order(items: dict[str, Any], seed: Any) -> None:
    keys = list(items)
    seed.shuffle(keys)
    shuffled = {k: items[k] for k in keys}
    nested_a = {"outer": items, "list": [items]}
    nested_b = {"list": [shuffled], "outer": shuffled}
    assert generation_key(file_system_id="fs-1", volume_id=None, triggers=items) == generation_key(
        file_system_id="fs-1", volume_id=None, triggers=shuffled
    )
    assert generation_key(file_system_id=None, volume_id="v", triggers=nested_a) == generation_key(
        file_system_id=None, volume_id="v", triggers=nested_b
    )


def test_generation_key_distinguishes_target_kind_and_triggers() -> None:
    same_text = "fs-0123456789abcdef0"
    as_fs = generation_key(file_system_id=same_text, volume_id=None, triggers=None)
    as_vol = generation_key(file_system_id=None, volume_id=same_text, triggers=None)
    assert as_fs != as_vol
    assert generation_key(file_system_id=same_text, volume_id=None, triggers={"v": "1"}) != as_fs
    assert generation_key(file_system_id=same_text, volume_id=None, triggers={"v": "1"}) != (
        generation_key(file_system_id=same_text, volume_id=None, triggers={"v": "2"})
    )


def test_no_triggers_and_empty_triggers_are_one_generation() -> None:
    """diff() treats {} and None alike; the token must too, or an unchanged resource re-keys."""
    assert generation_key(file_system_id="fs-1", volume_id=None, triggers=None) == generation_key(
        file_system_id="fs-1", volume_id=None, triggers={}
    )


@fast_settings()
@given(backup=st.from_regex(r"\Abackup-[0-9a-f]{8,}\Z"))
def test_delete_token_is_valid_deterministic_and_not_a_create_token(backup: str) -> None:
    token = delete_token(backup)
    assert TOKEN_RE.match(token)
    assert token == delete_token(backup)
    assert not token.startswith("fsxb-")


def test_the_life_is_part_of_the_generation() -> None:
    """A new life (a nonce stored in state before the first CreateBackup) derives other tokens, so a
    backup kept from an earlier life, or made by another stack with an equal URN, is never adopted."""
    def key(life: Any = None) -> str:
        return generation_key(file_system_id="fs-1", volume_id=None, triggers={"v": "1"}, life=life)

    assert key("nonce-a") != key("nonce-b")
    assert key("nonce-a") == key("nonce-a")
    assert derive_token("urn", key("nonce-a")) != derive_token("urn", key("nonce-b"))


def test_states_written_before_lives_keep_their_tokens() -> None:
    """No life (or an empty one) is the generation key as it was, so existing stacks re-key nothing."""
    before = '{"file_system_id":"fs-1","triggers":{"v":"1"},"volume_id":null}'
    assert generation_key(file_system_id="fs-1", volume_id=None, triggers={"v": "1"}) == before
    assert generation_key(file_system_id="fs-1", volume_id=None, triggers={"v": "1"}, life=None) == before
    assert generation_key(file_system_id="fs-1", volume_id=None, triggers={"v": "1"}, life="") == before
