"""Every example under examples/ runs end to end through the engine harness against the emulator:
preview -> up -> up (no change) -> [updates] -> destroy (with the program running, so delete hooks
can be served, like `pulumi destroy --run-program`).

An example may carry ``examples/<name>/harness.json``::

    {
      "project": "my-project",            # default: `name:` of the example's Pulumi.yaml
      "stack": "dev",                     # default: "test"
      "config": {"aws:region": "us-east-1", "my-project:fileSystemId": "fs-0123456789abcdef0"},
      "seed": {...},                      # FsxEmulator seed (see docs/emulator.md), or a file of the example
      "backup_seconds": 1.0,              # emulated backup duration (default 1 s, whatever the seed says)
      "updates": [{"config": {"my-project:lustreVersion": "2.15"}}],  # further `up`s, in order
      "expect_backups": [{"name": "data", "region": "eu-west-1", "account": "222222222222"}]
    }
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import pytest
from e2e_helpers import BACKUP_TYPE, COMPONENT_TYPE, live_backups

from fsx_backup_component.testing import FsxEmulator
from tests.harness import plain

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROGRAMS = sorted(p.parent for p in EXAMPLES.glob("*/__main__.py"))


def _project_name(example: Path) -> str:
    pulumi_yaml = example / "Pulumi.yaml"
    if pulumi_yaml.exists():
        match = re.search(r"^name:\s*(\S+)", pulumi_yaml.read_text(), re.MULTILINE)
        if match:
            return match.group(1).strip("'\"")
    return example.name


def _spec(example: Path) -> dict[str, Any]:
    path = example / "harness.json"
    return json.loads(path.read_text()) if path.exists() else {}


def test_examples_are_discovered() -> None:
    if not PROGRAMS:
        pytest.skip(f"no example programs yet: {EXAMPLES}/*/__main__.py matched nothing")
    assert all((p / "__main__.py").is_file() for p in PROGRAMS)


@pytest.mark.parametrize("example", PROGRAMS, ids=[p.name for p in PROGRAMS])
def test_example_end_to_end(example: Path, engine_harness: Callable[..., Any]) -> None:
    spec = _spec(example)
    seed = spec.get("seed")
    if isinstance(seed, str):
        seed = example / seed  # a seed file of the example, also usable with fsx-backup-emulator --seed
    with FsxEmulator(port=0, seed=seed) as emu:
        emu.set_backup_seconds(float(spec.get("backup_seconds", 1.0)))
        config: dict[str, Any] = dict(spec.get("config") or {})
        h = engine_harness(
            example,
            emulator=emu,
            project=spec.get("project") or _project_name(example),
            stack=spec.get("stack", "test"),
            region=config.get("aws:region", "us-east-1"),
            config=config,
            cwd=example,
        )

        preview = h.preview()
        assert preview.ok, preview.error_text()
        assert not preview.rpcs("Create") and not preview.rpcs("Update")

        up = h.up()
        assert up.ok, f"{up.error_text()}\n--- provider output ---\n{h.provider_output()[-3000:]}"
        _assert_backups_available(h, up, emu)
        _assert_backups_where_expected(h, spec)

        again = h.up()
        assert again.ok, again.error_text()
        changing = {m for m in again.methods() if m in ("Create", "Update", "Delete")}
        assert not changing, f"a second `up` without change made {changing}"

        for step in spec.get("updates") or []:
            for key, value in (step.get("config") or {}).items():
                h.set_config(key, value)
            update = h.up()
            assert update.ok, update.error_text()
            _assert_backups_available(h, update, emu)

        made = [r for r in h.state.resources.values() if r.type == BACKUP_TYPE and not r.retain_on_delete]
        destroy = h.destroy(run_program=True)
        assert destroy.ok, destroy.error_text()
        assert h.state.resources == {}
        live = {b["BackupId"] for b in live_backups(emu)}
        assert not {r.id for r in made} & live, "destroy left backups of the stack behind"


def _assert_backups_where_expected(h: Any, spec: dict[str, Any]) -> None:
    """``"expect_backups": [{"name": "data", "region": "eu-west-1", "account": "222222222222"}]``:
    the backup of that resource is in that region and account (its ARN says both)."""
    for want in spec.get("expect_backups") or []:
        (state,) = [r for r in h.state.resources.values() if r.type == BACKUP_TYPE and r.name == want["name"]]
        arn = plain(state.outputs)["backup_arn"]
        assert arn.split(":")[3:5] == [want["region"], want["account"]], (want, arn)
        for copy in plain(state.outputs).get("copies") or []:
            assert copy["backup_arn"].split(":")[4] == want["account"], (want, copy)


def _assert_backups_available(h: Any, result: Any, emu: Any) -> None:
    components = [u for u in result.outputs if u.split("::")[2].split("$")[-1] == COMPONENT_TYPE]
    for urn in components:
        assert result.outputs[urn]["lifecycle"] == "AVAILABLE", (urn, result.outputs[urn])
    live = {b["BackupId"]: b for b in live_backups(emu)}
    for res in h.state.resources.values():
        if res.type == BACKUP_TYPE:
            assert live[res.id]["Lifecycle"] == "AVAILABLE"
