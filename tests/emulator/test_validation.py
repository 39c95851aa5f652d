"""Server-side validation against botocore's model (§0, §1, §10): what botocore does not check
client-side must still be rejected with BadRequest and AWS's wording."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pytest
from botocore.exceptions import ClientError
from fsx_emu_helpers import error_of

from fsx_backup_component.testing import FsxEmulator
from fsx_backup_component.testing.validation import (
    _separator_chars,
    compile_model_pattern,
    pattern_matches,
    service_model,
)

TAG_PATTERN = r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"


def _bad_request(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as excinfo:
        call(**params)
    error = error_of(excinfo)
    assert (error["Code"], error["HTTPStatusCode"]) == ("BadRequest", 400)
    return str(error["Message"])


def test_pattern_violation_message(emu: FsxEmulator, raw_client: Any) -> None:
    message = _bad_request(raw_client.create_backup, FileSystemId="fs-NOTHEX0000")
    assert message == (
        "1 validation error detected: Value 'fs-NOTHEX0000' at 'fileSystemId' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: ^(fs-[0-9a-f]{8,})$"
    )
    assert emu.backups() == []


def test_several_violations_are_counted(raw_client: Any) -> None:
    message = _bad_request(raw_client.delete_backup, BackupId="nope", ClientRequestToken="x" * 64)
    # backupId: length and pattern; clientRequestToken: length and (applied whole) pattern
    assert message.startswith("4 validation errors detected: ")
    assert "at 'backupId' failed to satisfy constraint: Member must have length greater than or equal to 12" in message
    assert "at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 63" in message


def test_required_member(raw_client: Any) -> None:
    message = _bad_request(raw_client.delete_backup)
    assert "Value null at 'backupId' failed to satisfy constraint: Member must not be null" in message


def test_over_long_token_is_sent_and_rejected_by_the_server(client: Any) -> None:
    # botocore only checks `min` (§10), so this reaches the server even with validation on.
    message = _bad_request(client.create_backup, FileSystemId="fs-0123456789abcdef0", ClientRequestToken="t" * 100)
    assert "clientRequestToken" in message


@pytest.mark.parametrize("token", ["tökén", "with space", "bang!", "hash#", "slash/", "colon:", "新"])
def test_client_request_token_is_limited_to_ascii_of_the_pattern(raw_client: Any, token: str) -> None:
    """API reference: "a string of up to 63 ASCII characters"; the model pattern
    `[A-za-z0-9_.-]{0,63}$`, applied to the whole token as AWS's front end applies patterns."""
    message = _bad_request(raw_client.create_backup, FileSystemId="fs-0123456789abcdef0", ClientRequestToken=token)
    assert message == (
        f"1 validation error detected: Value '{token}' at 'clientRequestToken' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [A-za-z0-9_.-]{0,63}$"
    )


def test_client_request_token_pattern_quirk(emu: FsxEmulator, client: Any) -> None:
    """The model's typo `A-z` also spans `[\\]^_``: such a token passes; so does a uuid4 (botocore's
    own) and the 63-character maximum."""
    fs_id = emu.add_file_system("WINDOWS")
    backup = client.create_backup(FileSystemId=fs_id, ClientRequestToken="weird[^]`token")["Backup"]
    assert backup["Lifecycle"] == "CREATING"
    emu.set_backup_seconds(0)
    other = emu.add_file_system("WINDOWS")
    for token in ("0f8fad5b-d9cb-469f-a165-70867728950e", "a" * 63):
        assert client.create_backup(FileSystemId=other, ClientRequestToken=token)["Backup"]["BackupId"]
        assert client.describe_backups(Filters=[{"Name": "file-system-id", "Values": [other]}])["Backups"]


def test_enum_list_and_integer_constraints(raw_client: Any) -> None:
    enum_msg = _bad_request(raw_client.describe_backups, Filters=[{"Name": "colour", "Values": ["x"]}])
    assert "at 'filters.1.member.name' failed to satisfy constraint: Member must satisfy enum value set: [" in enum_msg
    too_many = [f"backup-{i:017x}" for i in range(51)]
    assert "Member must have length less than or equal to 50" in _bad_request(
        raw_client.describe_backups, BackupIds=too_many
    )
    assert "Member must have value greater than or equal to 1" in _bad_request(
        raw_client.describe_backups, MaxResults=0
    )
    assert "Member must satisfy regular expression pattern" in _bad_request(
        raw_client.describe_backups, Filters=[{"Name": "backup-type", "Values": ["a b"]}]
    )


def test_empty_tags_list_is_rejected_by_the_server(raw_client: Any) -> None:
    assert "at 'tags'" in _bad_request(raw_client.create_backup, FileSystemId="fs-0123456789abcdef0", Tags=[])


@pytest.mark.parametrize("value", ["Name", "team: hpc/ops=1+2-3@x_y.z", "Überstunden 東京 ٣", "a\u00a0b", ""])
def test_tag_values_with_letters_digits_spaces_and_allowed_punctuation_pass(
    emu: FsxEmulator, client: Any, value: str
) -> None:
    fs_id = emu.add_file_system("WINDOWS")
    tags = [{"Key": "k", "Value": value}]
    assert client.create_backup(FileSystemId=fs_id, Tags=tags)["Backup"]["Tags"] == tags


@pytest.mark.parametrize("key", ["semi;colon", "bang!", "hash#", "tab\there", "new\nline", "quote'"])
def test_tag_keys_with_other_punctuation_fail(raw_client: Any, key: str) -> None:
    message = _bad_request(
        raw_client.create_backup, FileSystemId="fs-0123456789abcdef0", Tags=[{"Key": key, "Value": "v"}]
    )
    assert "at 'tags.1.member.key'" in message


def test_every_model_pattern_compiles() -> None:
    model = service_model()
    patterns = {
        model.shape_for(name).metadata["pattern"]
        for name in model.shape_names
        if "pattern" in model.shape_for(name).metadata
    }
    assert len(patterns) > 30
    for pattern in patterns:
        assert isinstance(compile_model_pattern(pattern), re.Pattern)
    assert pattern_matches(r"^(?i)(true|false)$", "TRUE")  # Java-style mid-pattern flag


def test_separator_class_matches_unicodedata() -> None:
    expected = {chr(c) for c in range(0x110000) if unicodedata.category(chr(c)).startswith("Z")}
    assert {c for c in re.findall(r"\\?(.)", _separator_chars(), re.S)} == expected
    assert pattern_matches(TAG_PATTERN, "\u3000") and not pattern_matches(TAG_PATTERN, "\t")
