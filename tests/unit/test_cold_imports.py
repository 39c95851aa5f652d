"""What the provider host imports before it answers its first Check (issue 12: cold start).

The host (`python -m pulumi.dynamic`) unpickles ``__provider``, which imports
``fsx_backup_component.life`` or ``fsx_backup_component.provider`` (and the package). Anything
heavy imported there delays every first answer of every `preview` and `up`. Checked in a fresh
interpreter that has already imported what the host itself imports; no timing, only modules.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# boto3 and botocore's client machinery (~0.3 s), pulumi_aws (seconds), the emulator. Only
# botocore.exceptions (the exception classes, a few ms) may load with fsx.py: its `except ClientError`
# clauses need the class.
HEAVY = ("boto3", "botocore.session", "botocore.client", "botocore.config", "botocore.credentials",
         "botocore.endpoint", "s3transfer", "urllib3", "pulumi_aws", "fsx_backup_component.testing")

PROBE = """
import json, sys
# What the host module (pulumi/dynamic/__main__.py, which starts a server when imported) has loaded
# before it unpickles a provider.
import dill, grpc, pulumi.dynamic, pulumi.runtime, pulumi.runtime.proto.provider_pb2_grpc
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _loaded_by(module: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("module", ["fsx_backup_component.provider", "fsx_backup_component.life"])
def test_the_provider_modules_import_nothing_heavy(module: str) -> None:
    heavy = [m for m in _loaded_by(module) if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == [], f"importing {module} loads {heavy[:8]}: import them where first used (lazily)"


def test_the_life_provider_loads_neither_the_backup_provider_nor_the_component() -> None:
    """The first Check of an `up` is a Life's: it must not wait for the backup side at all."""
    loaded = _loaded_by("fsx_backup_component.life")
    assert not {"fsx_backup_component.component", "fsx_backup_component.provider",
                "fsx_backup_component.fsx", "fsx_backup_component.prechange"} & set(loaded)


def test_the_package_still_exports_its_names() -> None:
    import fsx_backup_component

    for name in fsx_backup_component.__all__:
        assert getattr(fsx_backup_component, name) is not None
    with pytest.raises(AttributeError):
        fsx_backup_component.NoSuchName  # noqa: B018


def test_fsx_still_offers_its_retry_configs() -> None:
    from fsx_backup_component import fsx

    assert fsx.RETRY_CONFIG.retries == {"mode": "standard", "total_max_attempts": 10}
    assert fsx.POLL_RETRY_CONFIG.retries == {"mode": "standard", "total_max_attempts": 2}
