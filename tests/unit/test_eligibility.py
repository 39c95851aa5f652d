"""The "bad input" table of issue 7, rule by rule (eligibility.py is pure: no I/O, no mocks).

Each row: the rule that is called, the input, the property the failure must name, a fragment that
says what is wrong and a fragment that says what would be valid.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st
from unit_helpers import fast_settings

from fsx_backup_component import eligibility as el
from fsx_backup_component.eligibility import Failure, FileSystemFacts, VolumeFacts
from fsx_backup_component.fsx import TOKEN_TAG_KEY

FS = "fs-0123456789abcdef0"
VOL = "fsvol-0123456789abcdef0"


def lustre(**kw: Any) -> FileSystemFacts:
    return FileSystemFacts(**{"file_system_id": FS, "file_system_type": "LUSTRE", "lifecycle": "AVAILABLE",
                              "deployment_type": "PERSISTENT_2", "data_repository_association_count": 0, **kw})


def ontap_volume(**kw: Any) -> VolumeFacts:
    return VolumeFacts(**{"volume_id": VOL, "volume_type": "ONTAP", "ontap_volume_type": "RW",
                          "flexcache_endpoint_type": "NONE", "lifecycle": "CREATED", **kw})


def choice(fs: Any, vol: Any, fs_known: bool = True, vol_known: bool = True) -> list[Failure]:
    return el.check_target_choice(file_system_id=fs, volume_id=vol, file_system_known=fs_known,
                                  volume_known=vol_known)


def n_tags(n: int) -> dict[str, str]:
    return {f"k{i}": "v" for i in range(n)}


@dataclass(frozen=True)
class Bad:
    """One row of the bad-input table."""

    label: str
    run: Callable[[], list[Failure]]
    prop: str
    what: str  # names the problem (regex)
    valid: str  # says what would be valid (regex)


BAD_INPUT_TABLE: list[Bad] = [
    # --- target IDs -------------------------------------------------------------------------------
    Bad("fs id too short", lambda: el.check_file_system_id("fs-0123"), "file_system_id", "'fs-0123'", "fs-0123456789abcdef0"),
    Bad("fs id uppercase hex", lambda: el.check_file_system_id("fs-0123456789ABCDEF0"), "file_system_id", "not a file system ID", "lowercase hex"),
    Bad("fs id uppercase prefix", lambda: el.check_file_system_id("FS-0123456789abcdef0"), "file_system_id", "not a file system ID", "`fs-`"),
    Bad("fs id too long (22 chars)", lambda: el.check_file_system_id("fs-0123456789abcdef0123"), "file_system_id", "not a file system ID", "8 to 18"),
    Bad("fs id is a volume id", lambda: el.check_file_system_id(VOL), "file_system_id", "fsvol-", "`fs-`"),
    Bad("fs id empty", lambda: el.check_file_system_id(""), "file_system_id", "''", "fs-0123456789abcdef0"),
    Bad("fs id not a string", lambda: el.check_file_system_id(12345678901), "file_system_id", "12345678901", "fs-0123456789abcdef0"),
    Bad("volume id 16 hex", lambda: el.check_volume_id("fsvol-0123456789abcdef"), "volume_id", "not a volume ID", "17 lowercase hex"),
    Bad("volume id 18 hex (len 24)", lambda: el.check_volume_id("fsvol-0123456789abcdef01"), "volume_id", "not a volume ID", "fsvol-0123456789abcdef0"),
    Bad("volume id is a fs id", lambda: el.check_volume_id(FS), "volume_id", "not a volume ID", "`fsvol-`"),
    Bad("volume id uppercase", lambda: el.check_volume_id("fsvol-0123456789ABCDEF0"), "volume_id", "not a volume ID", "lowercase"),
    # --- target choice (unknown = being created = given) ---------------------------------------------
    Bad("both targets", lambda: choice(FS, VOL), "file_system_id", "not both", "exactly one target"),
    Bad("neither target", lambda: choice(None, None), "file_system_id", "exactly one target", "`volume_id`/`volume`"),
    Bad("unknown fs + known volume", lambda: choice(None, VOL, fs_known=False), "file_system_id", "not both", "exactly one"),
    Bad("both unknown", lambda: choice(None, None, False, False), "file_system_id", "not both", "exactly one"),
    # --- Lustre --------------------------------------------------------------------------------------
    Bad("lustre SCRATCH_1", lambda: el.check_file_system(lustre(deployment_type="SCRATCH_1")), "file_system_id", "SCRATCH_1", "PERSISTENT_1 / PERSISTENT_2"),
    Bad("lustre SCRATCH_2", lambda: el.check_file_system(lustre(deployment_type="SCRATCH_2")), "file_system_id", "SCRATCH_2", "PERSISTENT_1 / PERSISTENT_2"),
    Bad("lustre ImportPath", lambda: el.check_file_system(lustre(import_path="s3://bucket/in")), "file_system_id", "s3://bucket/in", "without ImportPath/ExportPath"),
    Bad("lustre ExportPath", lambda: el.check_file_system(lustre(export_path="s3://bucket/out")), "file_system_id", "s3://bucket/out", "without ImportPath/ExportPath"),
    Bad("lustre with a DRA", lambda: el.check_file_system(lustre(data_repository_association_count=2)), "file_system_id", "2 data repository association", "Remove the associations"),
    Bad("lustre resource target SCRATCH", lambda: el.check_file_system(lustre(deployment_type="SCRATCH_2"), prop="file_system"), "file_system", "SCRATCH_2", "PERSISTENT"),
    # --- ONTAP / OpenZFS ------------------------------------------------------------------------------
    Bad("ontap file system", lambda: el.check_file_system(FileSystemFacts(file_system_id=FS, file_system_type="ONTAP")), "file_system_id", "ONTAP file system", "Pass the volume instead"),
    Bad("ontap DP volume", lambda: el.check_volume(ontap_volume(ontap_volume_type="DP")), "volume_id", "ONTAP DP volume", r"read-write \(RW\)"),
    Bad("ontap LS volume", lambda: el.check_volume(ontap_volume(ontap_volume_type="LS")), "volume_id", "ONTAP LS volume", r"read-write \(RW\)"),
    Bad("flexcache cache", lambda: el.check_volume(ontap_volume(flexcache_endpoint_type="CACHE")), "volume_id", "FlexCache cache", "origin volume"),
    Bad("openzfs volume", lambda: el.check_volume(VolumeFacts(volume_id=VOL, volume_type="OPENZFS")), "volume_id", "OpenZFS volume", "Pass the\\s+file system"),
    # --- lifecycles ------------------------------------------------------------------------------------
    *[
        Bad(f"file system {state}", lambda s=state: el.check_file_system(lustre(lifecycle=s)), "file_system_id", f"is {state}", "AVAILABLE")  # type: ignore[misc]
        for state in ("CREATING", "DELETING", "FAILED", "MISCONFIGURED", "MISCONFIGURED_UNAVAILABLE")
    ],
    Bad("windows file system CREATING", lambda: el.check_file_system(FileSystemFacts(FS, "WINDOWS", "MULTI_AZ_1", lifecycle="CREATING")), "file_system_id", "is CREATING", "AVAILABLE"),
    Bad("volume DELETING", lambda: el.check_volume(ontap_volume(lifecycle="DELETING")), "volume_id", "is DELETING", "CREATED or AVAILABLE"),
    # --- tags ------------------------------------------------------------------------------------------
    Bad("50 tags", lambda: el.check_tags(n_tags(50)), "tags", "50 tags given", "at most 49"),
    Bad("key 129 chars", lambda: el.check_tags({"k" * 129: "v"}), "tags", "k{129}", "1 to 128"),
    Bad("empty key", lambda: el.check_tags({"": "v"}), "tags", "''", "1 to 128"),
    Bad("value 257 chars", lambda: el.check_tags({"k": "v" * 257}), "tags", "257 characters", "at most 256"),
    Bad("key with #", lambda: el.check_tags({"a#b": "v"}), "tags", "'a#b'", "letters, digits, spaces and _ . : / = \\+ - @"),
    Bad("value with !", lambda: el.check_tags({"k": "v!"}), "tags", "value of 'k'", "letters, digits"),
    Bad("value with newline", lambda: el.check_tags({"k": "a\nb"}), "tags", "value of 'k'", "letters, digits"),
    Bad("aws: prefix", lambda: el.check_tags({"aws:cloudformation": "v"}), "tags", "reserved prefix", "aws:"),
    Bad("AWS: prefix (any case)", lambda: el.check_tags({"AWS:x": "v"}), "tags", "reserved prefix", "aws:"),
    Bad("non-string value", lambda: el.check_tags({"k": 5}), "tags", "value of 'k'", "must be a string"),
    Bad("non-string key", lambda: el.check_tags({5: "v"}), "tags", "key 5", "1 to 128 characters"),
    Bad("tags not a map", lambda: el.check_tags(["k=v"]), "tags", "map", "string keys to string values"),
    # --- timeout -----------------------------------------------------------------------------------------
    Bad("timeout 0", lambda: el.check_timeout(0), "timeout_seconds", "got 0", "positive.*default is 7200"),
    Bad("timeout negative", lambda: el.check_timeout(-5.5), "timeout_seconds", "-5.5", "positive"),
    Bad("timeout absurd (8 days)", lambda: el.check_timeout(8 * 86400), "timeout_seconds", "691200 seconds", "604800 \\(7 days\\)"),
    Bad("timeout infinite", lambda: el.check_timeout(math.inf), "timeout_seconds", "inf", "7 days"),
    Bad("timeout string", lambda: el.check_timeout("7200"), "timeout_seconds", "'7200'", "number of seconds"),
    Bad("timeout bool", lambda: el.check_timeout(True), "timeout_seconds", "True", "number of seconds"),
    Bad("timeout None", lambda: el.check_timeout(None), "timeout_seconds", "None", "number of seconds"),
    # --- region ------------------------------------------------------------------------------------------
    Bad("region without dashes", lambda: el.check_region_syntax("useast1"), "region", "'useast1'", "us-east-1"),
    Bad("region uppercase", lambda: el.check_region_syntax("US-EAST-1"), "region", "'US-EAST-1'", "us-east-1"),
    Bad("region availability zone", lambda: el.check_region_syntax("us-east-1a"), "region", "'us-east-1a'", "region name"),
    Bad("region not a string", lambda: el.check_region_syntax(1), "region", "1", "us-east-1"),
]


@pytest.mark.parametrize("row", BAD_INPUT_TABLE, ids=[row.label for row in BAD_INPUT_TABLE])
def test_bad_input_is_refused_naming_the_property_and_the_valid_form(row: Bad) -> None:
    failures = row.run()
    assert failures, f"{row.label}: accepted"
    matching = [f for f in failures if f.property == row.prop]
    assert matching, f"{row.label}: failures name {[f.property for f in failures]}, not {row.prop}"
    reasons = " | ".join(f.reason for f in matching)
    assert re.search(row.what, reasons), f"{row.label}: {reasons!r} does not say {row.what!r}"
    assert re.search(row.valid, reasons), f"{row.label}: {reasons!r} does not say what is valid ({row.valid!r})"
    assert str(matching[0]).startswith(f"{row.prop}: ")


# Rows that once passed wrongly (regressions guard); the reason says what the defect was.
def _bug(row: Bad, reason: str) -> Any:
    return pytest.param(row, id=row.label)


BUGGY_ROWS = [
    _bug(Bad("fs id with trailing newline", lambda: el.check_file_system_id("fs-0123456789abcdef0\n"),
             "file_system_id", "not a file system ID", "fs-"),
         "eligibility.py FILE_SYSTEM_ID_RE uses `$`, which matches before a final newline; use fullmatch"),
    _bug(Bad("region with trailing newline", lambda: el.check_region_syntax("us-east-1\n"),
             "region", "region", "us-east-1"),
         "eligibility.py REGION_RE uses `$` (provider's known_regions() catches it later)"),
    _bug(Bad("timeout NaN", lambda: el.check_timeout(math.nan), "timeout_seconds", "nan", "positive|number"),
         "eligibility.check_timeout: NaN fails both `<= 0` and `> MAX`, so it passes"),
    _bug(Bad("user tag with the component's token-tag key", lambda: el.check_tags({TOKEN_TAG_KEY: "x"}),
             "tags", "reserved", TOKEN_TAG_KEY),
         "eligibility.check_tags does not reserve fsx.TOKEN_TAG_KEY; create_backup then sends it twice"),
]


@pytest.mark.parametrize("row", BUGGY_ROWS)
def test_known_bad_input_gaps(row: Bad) -> None:
    test_bad_input_is_refused_naming_the_property_and_the_valid_form(row)


# ------------------------------------------------------------------------------------------------------
# Valid inputs pass (each rule's accepting side)

GOOD: list[tuple[str, Callable[[], list[Failure]]]] = [
    ("fs id 8 hex", lambda: el.check_file_system_id("fs-01234567")),
    ("fs id 17 hex", lambda: el.check_file_system_id(FS)),
    ("fs id 18 hex", lambda: el.check_file_system_id("fs-" + "a" * 18)),
    ("volume id", lambda: el.check_volume_id(VOL)),
    ("only fs", lambda: choice(FS, None)),
    ("only volume", lambda: choice(None, VOL)),
    ("unknown fs alone", lambda: choice(None, None, fs_known=False)),
    ("unknown volume alone", lambda: choice(None, None, vol_known=False)),
    ("lustre PERSISTENT_1", lambda: el.check_file_system(lustre(deployment_type="PERSISTENT_1"))),
    ("lustre PERSISTENT_2", lambda: el.check_file_system(lustre())),
    ("lustre UPDATING", lambda: el.check_file_system(lustre(lifecycle="UPDATING"))),
    ("lustre all unknown", lambda: el.check_file_system(FileSystemFacts(file_system_type="LUSTRE"))),
    ("nothing known", lambda: el.check_file_system(FileSystemFacts())),
    ("windows", lambda: el.check_file_system(FileSystemFacts(FS, "WINDOWS", "SINGLE_AZ_2", lifecycle="AVAILABLE"))),
    ("openzfs", lambda: el.check_file_system(FileSystemFacts(FS, "OPENZFS", "SINGLE_AZ_1", lifecycle="AVAILABLE"))),
    ("windows with paths is not lustre", lambda: el.check_file_system(FileSystemFacts(FS, "WINDOWS", import_path="s3://x"))),
    ("ontap RW volume", lambda: el.check_volume(ontap_volume())),
    ("ontap ORIGIN volume", lambda: el.check_volume(ontap_volume(flexcache_endpoint_type="ORIGIN"))),
    ("ontap volume AVAILABLE", lambda: el.check_volume(ontap_volume(lifecycle="AVAILABLE"))),
    ("no tags", lambda: el.check_tags(None)),
    ("empty tags", lambda: el.check_tags({})),
    ("49 tags", lambda: el.check_tags(n_tags(49))),
    ("tag limits", lambda: el.check_tags({"k" * 128: "v" * 256, "e": ""})),
    ("unicode tag", lambda: el.check_tags({"Név": "értékű 1/2 @x", "名前": "値"})),
    ("timeout 1", lambda: el.check_timeout(1)),
    ("timeout 7 days", lambda: el.check_timeout(7 * 86400)),
    ("timeout float", lambda: el.check_timeout(0.5)),
    ("region", lambda: el.check_region_syntax("ap-southeast-2")),
    ("gov region", lambda: el.check_region_syntax("us-gov-west-1")),
    # Regions of partitions newer than a 2-letter prefix, and ones newer than the installed botocore.
    ("eusc region", lambda: el.check_region_syntax("eusc-de-east-1")),
    ("iso-b region", lambda: el.check_region_syntax("us-isob-east-1")),
    ("future region", lambda: el.check_region_syntax("ap-future-9")),
    ("no region", lambda: el.check_region_syntax(None)),
]


@pytest.mark.parametrize("label,run", GOOD, ids=[g[0] for g in GOOD])
def test_valid_input_passes(label: str, run: Callable[[], list[Failure]]) -> None:
    assert run() == []


def test_every_problem_of_a_lustre_file_system_is_reported_at_once() -> None:
    failures = el.check_file_system(
        lustre(deployment_type="SCRATCH_2", import_path="s3://a", data_repository_association_count=1,
               lifecycle="CREATING")
    )
    assert len(failures) == 4


def test_every_tag_problem_is_reported() -> None:
    failures = el.check_tags({"aws:x": "ok", "k": "bad!", "j" * 200: "v"})
    assert len(failures) == 3


# ------------------------------------------------------------------------------------------------------
# Hypothesis over the tag rules

_PUNCT = "_.:/=+-@"
valid_tag_chars = st.characters(categories=("L", "N", "Zs"), exclude_characters="\x00") | st.sampled_from(_PUNCT)
valid_keys = st.text(valid_tag_chars, min_size=1, max_size=128).filter(
    lambda k: not k.lower().startswith("aws:") and k != TOKEN_TAG_KEY
)
valid_values = st.text(valid_tag_chars, max_size=256)
bad_chars = st.characters(exclude_categories=("L", "N", "Z"), exclude_characters=_PUNCT)


@fast_settings()
@given(tags=st.dictionaries(valid_keys, valid_values, max_size=el.MAX_USER_TAGS))
def test_any_dict_of_valid_tags_passes(tags: dict[str, str]) -> None:
    assert el.check_tags(tags) == []


@fast_settings()
@given(key=valid_keys, value=valid_values, bad=bad_chars, in_key=st.booleans(), where=st.integers(0, 300))
def test_any_character_outside_the_model_pattern_fails(
    key: str, value: str, bad: str, in_key: bool, where: int
) -> None:
    assert unicodedata.category(bad)[0] not in "LNZ" and bad not in _PUNCT
    if in_key:
        key = (key[: where % (len(key) + 1)] + bad + key[where % (len(key) + 1):])[:128]
        if bad not in key:  # truncated away
            key = bad + key[:127]
    else:
        value = (value[: where % (len(value) + 1)] + bad + value[where % (len(value) + 1):])[:256]
        if bad not in value:
            value = bad + value[:255]
    failures = el.check_tags({key: value})
    assert any(f.property == "tags" and "characters FSx refuses" in f.reason for f in failures)


@fast_settings()
@given(seconds=st.floats(min_value=1e-3, max_value=el.MAX_TIMEOUT_SECONDS) | st.integers(1, el.MAX_TIMEOUT_SECONDS))
def test_any_timeout_in_range_passes(seconds: float) -> None:
    assert el.check_timeout(seconds) == []


@fast_settings()
@given(value=st.floats(allow_nan=False) | st.integers())
def test_timeouts_outside_the_range_fail(value: float) -> None:
    if 0 < value <= el.MAX_TIMEOUT_SECONDS:
        return
    assert [f.property for f in el.check_timeout(value)] == ["timeout_seconds"]


@fast_settings()
@given(hexdigits=st.text("0123456789abcdef", min_size=0, max_size=30))
def test_file_system_id_rule_matches_the_model(hexdigits: str) -> None:
    fs_id = "fs-" + hexdigits
    model_ok = 8 <= len(hexdigits) and 11 <= len(fs_id) <= 21
    assert (el.check_file_system_id(fs_id) == []) is model_ok


# ------------------------------------------------------------------------------------------------------
# copy destinations: well formed is enough; botocore's region list only informs the partition rule


KNOWN = frozenset({"us-east-1", "us-west-2", "cn-north-1"})


def _partition(region: str) -> str:
    return "aws-cn" if region.startswith("cn-") else "aws"


def test_a_well_formed_destination_botocore_does_not_know_passes() -> None:
    assert el.check_copy_destinations(["eusc-de-east-1", "ap-future-9"], source_region="us-east-1",
                                      known_regions=KNOWN, partition_of=_partition) == []


def test_a_known_source_in_an_unknown_region_is_not_refused() -> None:
    assert el.check_copy_destinations(["us-west-2"], source_region="ap-future-9",
                                      known_regions=KNOWN, partition_of=_partition) == []


@pytest.mark.parametrize("bad", ["us-west-2a", "US-WEST-2", "us-west-2\n", "west"])
def test_what_cannot_be_a_region_is_refused_as_a_destination(bad: str) -> None:
    failures = el.check_copy_destinations([bad], source_region="us-east-1", known_regions=KNOWN,
                                          partition_of=_partition)
    assert [f.property for f in failures] == ["copy_to_regions"] and "region name" in failures[0].reason


def test_known_regions_still_keep_copies_in_one_partition() -> None:
    failures = el.check_copy_destinations(["cn-north-1"], source_region="us-east-1", known_regions=KNOWN,
                                          partition_of=_partition)
    assert [f.property for f in failures] == ["copy_to_regions"] and "partition" in failures[0].reason


def test_a_whole_ontap_file_system_plans_its_rw_data_volumes_in_id_order_and_names_the_others() -> None:
    from fsx_backup_component.eligibility import VolumeFacts, plan_volume_backups

    def vol(n: int, **kw: Any) -> VolumeFacts:
        base: dict[str, Any] = {"volume_id": f"fsvol-{n:017x}", "volume_type": "ONTAP", "ontap_volume_type": "RW",
                                "flexcache_endpoint_type": "NONE", "lifecycle": "CREATED", "name": f"v{n}"}
        return VolumeFacts(**{**base, **kw})

    listed = [vol(5), vol(2, ontap_volume_type="DP"), vol(4, svm_root=True), vol(1),
              vol(3, flexcache_endpoint_type="CACHE"), vol(6, lifecycle="CREATING"), vol(7, ontap_volume_type="LS")]
    plan = plan_volume_backups(listed)
    assert [v.volume_id for v in plan.volumes] == [vol(1).volume_id, vol(5).volume_id]
    reasons = {v.name: reason for v, reason in plan.skipped}
    assert set(reasons) == {"v2", "v3", "v4", "v6", "v7"}
    assert "DP" in reasons["v2"] and "FlexCache" in reasons["v3"] and "root volume" in reasons["v4"]
    assert "CREATING" in reasons["v6"] and "LS" in reasons["v7"]
    assert plan_volume_backups(list(reversed(listed))) == plan, "the order FSx lists them in changes nothing"
    none = plan_volume_backups([vol(2, ontap_volume_type="DP")])
    assert none.volumes == [] and "fsvol-" in none.why_none("fs-0123456789abcdef0") and "DP" in none.why_none("fs-x")
    assert "no volumes" in plan_volume_backups([]).why_none("fs-x")
