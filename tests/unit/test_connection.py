"""connection.py: the AWS settings the component sends and the stack config holds, validated and
merged by precedence (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from fsx_backup_component.connection import (
    AwsSettings,
    RoleToAssume,
    arn_region,
    parse_duration,
    role_maps,
    settings_from_config,
    settings_from_input,
)

ROLE = "arn:aws:iam::222222222222:role/backup"


def test_every_field_is_read() -> None:
    settings, failures = settings_from_input({
        "region": "us-west-2", "profile": "prod", "shared_config_files": ["~/cfg"],
        "shared_credentials_files": ["~/creds"],
        "assume_roles": [{"role_arn": ROLE, "external_id": "ext-1", "session_name": "deploy", "duration": "1h30m"}],
    })
    assert failures == []
    assert settings == AwsSettings(
        "us-west-2", "prod", "~/cfg", "~/creds", (RoleToAssume(ROLE, "ext-1", "deploy", 5400),)
    )


def test_nothing_given_is_the_default() -> None:
    assert settings_from_input(None) == (AwsSettings(), [])
    assert settings_from_input({}) == (AwsSettings(), [])


@pytest.mark.parametrize("value,prop,fragment", [
    ({"assume_roles": [{"role_arn": "arn:aws:iam::12:role/x"}]}, "assume_roles[0].role_arn", "12-digit"),
    ({"assume_roles": [{"role_arn": ROLE, "duration": "5m"}]}, "assume_roles[0].duration", "between 15m and 12h"),
    ({"assume_roles": [{"role_arn": ROLE, "duration": "13h"}]}, "assume_roles[0].duration", "between 15m and 12h"),
    ({"assume_roles": [{"role_arn": ROLE, "duration": "soon"}]}, "assume_roles[0].duration", "\"1h\""),
    ({"assume_roles": [{"role_arn": ROLE, "session_name": "a b"}]}, "assume_roles[0].session_name", "2-64"),
    ({"assume_roles": [{"role_arn": ROLE, "external_id": "x"}]}, "assume_roles[0].external_id", "2-1224"),
    ({"assume_roles": [{"role_arn": ROLE, "policy": "{}"}]}, "assume_roles[0].policy", "valid keys"),
    ({"assume_roles": "arn"}, "assume_roles", "list"),
    ({"shared_config_files": ["a", "b"]}, "shared_config_files", "one file"),
    ({"shared_credentials_files": [3]}, "shared_credentials_files", "file paths"),
    ({"profile": 7}, "profile", "string"),
    ({"static_keys_in": "keyed"}, "providers", "never takes static keys"),
])
def test_bad_settings_name_the_property_and_what_is_valid(value: dict[str, Any], prop: str, fragment: str) -> None:
    failures = settings_from_input(value)[1]
    assert [f.property for f in failures] == [prop]
    assert fragment in failures[0].reason


def test_a_role_chain_keeps_its_order() -> None:
    other = "arn:aws:iam::333333333333:role/next"
    settings = settings_from_input({"assume_roles": [{"role_arn": ROLE}, {"role_arn": other}]})[0]
    assert [r.role_arn for r in settings.assume_roles] == [ROLE, other]


def test_each_field_falls_back_on_its_own() -> None:
    mine = AwsSettings(region=None, profile="prod")
    config = AwsSettings(region="eu-west-1", profile="default-profile", shared_config_file="/cfg")
    assert mine.over(config) == AwsSettings(region="eu-west-1", profile="prod", shared_config_file="/cfg")


def test_stack_config_uses_camel_case_keys_and_json_lists() -> None:
    config = {
        "aws:region": "eu-west-1", "aws:profile": "ops",
        "aws:sharedConfigFiles": '["/etc/aws/config"]',
        "aws:assumeRoles": '[{"roleArn": "%s", "externalId": "ext-9", "duration": "15m"}]' % ROLE,
    }
    settings, failures = settings_from_config(config)
    assert failures == []
    assert settings == AwsSettings("eu-west-1", "ops", "/etc/aws/config", None, (RoleToAssume(ROLE, "ext-9", None, 900),))


def test_bad_stack_config_is_named_by_its_config_key() -> None:
    failures = settings_from_config({"aws:assumeRoles": '[{"roleArn": "nope"}]', "aws:sharedConfigFiles": "not json"})[1]
    assert sorted(f.property for f in failures) == ["aws:assumeRoles[0].role_arn", "aws:sharedConfigFiles"]


@pytest.mark.parametrize("text,seconds", [("1h", 3600), ("15m", 900), ("900s", 900), ("1h30m", 5400), (1200, 1200)])
def test_durations_read_like_pulumi_aws(text: Any, seconds: int) -> None:
    assert parse_duration(text) == seconds


def test_arn_region_and_role_maps() -> None:
    assert arn_region("arn:aws:fsx:us-west-2:123456789012:file-system/fs-1") == "us-west-2"
    assert arn_region(None) is None and arn_region("fs-1") is None

    class Args:  # the shape of aws.ProviderAssumeRoleArgs
        role_arn = ROLE
        external_id = "e-1"

    assert role_maps([Args()]) == [{"role_arn": ROLE, "external_id": "e-1", "session_name": None, "duration": None}]
    assert role_maps([{"role_arn": ROLE}]) == [{"role_arn": ROLE}]


def test_describe_never_says_more_than_names() -> None:
    assert AwsSettings().describe() == ""
    settings = AwsSettings(profile="prod", assume_roles=(RoleToAssume(ROLE, external_id="ext-secretish"),))
    assert settings.describe() == f"profile 'prod', role {ROLE}"
