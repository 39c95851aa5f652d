"""schema.json is held in step with the Python API (FsxBackupArgs, the component's outputs) and with
what the plugin serves, is well formed as a Pulumi package schema, and every property the TypeScript
and YAML examples use is in it. Each test fails when one side gains or loses a property."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import pytest

from fsx_backup_component.component import OUTPUT_NAMES, FsxBackupArgs
from fsx_backup_component.native import component as native_component
from fsx_backup_component.native import resources
from fsx_backup_component.native.server import schema_text

REPO = Path(__file__).resolve().parents[2]
SCHEMA: dict[str, Any] = json.loads(schema_text())
RESOURCES = SCHEMA["resources"]
COMPONENT = RESOURCES["fsx-backup:index:FsxBackup"]
# Python-only arguments: a resource object as the target (a multi-language program passes its ID).
PYTHON_ONLY = {"file_system", "volume"}


def test_component_inputs_are_fsx_backup_args_in_camel_case() -> None:
    args = {resources.camel(f.name) for f in dataclasses.fields(FsxBackupArgs) if f.name not in PYTHON_ONLY}
    assert set(COMPONENT["inputProperties"]) == args
    assert set(native_component.COMPONENT_INPUTS) == args


def test_component_outputs_are_the_python_outputs_in_camel_case() -> None:
    outputs = {resources.camel(name) for name in OUTPUT_NAMES}
    assert set(COMPONENT["properties"]) == outputs
    assert set(native_component.COMPONENT_OUTPUTS) == outputs


def test_backup_inputs_are_what_the_adapter_translates() -> None:
    assert set(RESOURCES["fsx-backup:index:Backup"]["inputProperties"]) == set(resources.INPUT_NAMES)


def test_backup_outputs_cover_every_key_of_the_stored_state() -> None:
    from fsx_backup_component.state import BackupState

    stored = {resources.camel(k) for k in BackupState.__annotations__ if k != "resource_urn"}
    assert set(RESOURCES["fsx-backup:index:Backup"]["properties"]) >= stored


def _refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if "$ref" in value else []
        return found + [r for v in value.values() for r in _refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in _refs(v)]
    return []


def _properties(value: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(value, dict):
        for key in ("properties", "inputProperties"):
            if isinstance(value.get(key), dict):
                found.extend(value[key].values())
        for v in value.values():
            found.extend(_properties(v))
    return found


def test_schema_is_a_well_formed_package_schema() -> None:
    """The parts of Pulumi's package metaschema (pkg/codegen/schema/pulumi.json) this schema uses:
    token forms, references that resolve, required names that exist, a type or a $ref on every
    property, descriptions everywhere, and secret where it applies."""
    assert re.fullmatch(r"[a-z][a-z0-9-]*", SCHEMA["name"])
    token = re.compile(rf"^{SCHEMA['name']}:index:[A-Z][A-Za-z]*$")
    assert all(token.match(t) for t in [*SCHEMA["resources"], *SCHEMA["types"]])
    for ref in _refs(SCHEMA):
        assert ref == "pulumi.json#/Any" or (ref.startswith("#/types/") and ref[len("#/types/"):] in SCHEMA["types"]), ref
    for name, spec in [*SCHEMA["resources"].items(), *SCHEMA["types"].items()]:
        declared = set(spec.get("properties", {}))
        assert set(spec.get("required", [])) <= declared, name
        assert spec.get("description"), name
    for prop in _properties(SCHEMA):
        kinds = {"type", "$ref", "oneOf"} & set(prop)
        assert kinds, prop
        if "type" in prop:
            assert prop["type"] in {"string", "number", "integer", "boolean", "array", "object"}, prop
        if prop.get("type") == "array":
            assert "items" in prop, prop
    assert COMPONENT["isComponent"] is True
    assert SCHEMA["types"]["fsx-backup:index:AssumeRole"]["properties"]["externalId"]["secret"] is True


def _typescript_usage(path: Path) -> tuple[set[str], set[str]]:
    text = path.read_text()
    (body,) = re.findall(r"new fsxBackup\.FsxBackup\(\s*\"[^\"]+\",\s*\{(.*?)\n\}\)", text, re.S)
    inputs = set(re.findall(r"^\s{4}(\w+):", body, re.M))
    outputs = set(re.findall(r"\bbackup\.(\w+)", text))
    return inputs, outputs


def _yaml_usage(path: Path) -> tuple[set[str], set[str]]:
    import yaml  # PyYAML comes with the test dependencies' tree (pulumi requires it)

    program = yaml.safe_load(path.read_text())
    inputs: set[str] = set()
    names = set()
    for name, resource in program["resources"].items():
        assert resource["type"] == "fsx-backup:index:FsxBackup"
        inputs |= set(resource.get("properties", {}))
        names.add(name)
    outputs = {m.group(2) for m in re.finditer(r"\$\{(\w+)\.(\w+)\}", path.read_text()) if m.group(1) in names}
    return inputs, outputs


@pytest.mark.parametrize(
    ("example", "reader"),
    [("typescript/index.ts", _typescript_usage), ("yaml/Pulumi.yaml", _yaml_usage)],
)
def test_every_property_an_example_uses_is_in_the_schema(example: str, reader: Any) -> None:
    inputs, outputs = reader(REPO / "examples" / example)
    assert inputs and outputs, "the example reader found nothing: the example's form changed"
    assert inputs <= set(COMPONENT["inputProperties"]), inputs - set(COMPONENT["inputProperties"])
    assert outputs <= set(COMPONENT["properties"]), outputs - set(COMPONENT["properties"])


def test_examples_add_the_plugin_of_this_repository() -> None:
    import yaml

    for example in ("typescript", "yaml"):
        project = yaml.safe_load((REPO / "examples" / example / "Pulumi.yaml").read_text())
        (source,) = project["packages"].values()
        assert (REPO / "examples" / example / source / "PulumiPlugin.yaml").exists()
    plugin = yaml.safe_load((REPO / "provider" / "PulumiPlugin.yaml").read_text())
    assert plugin == {"name": "fsx-backup", "runtime": "python"}
    assert (REPO / "provider" / "__main__.py").exists() and (REPO / "provider" / "requirements.txt").exists()
