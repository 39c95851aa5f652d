"""An engine harness: runs Pulumi programs the way the engine does, with the real dynamic-provider
host process, against the local FSx emulator. See docs/testing.md.

    from fsx_backup_component import FsxBackup
    from fsx_backup_component.testing import FsxEmulator
    from tests.harness import Harness

    with FsxEmulator(backup_seconds=1) as emu, Harness(emulator=emu) as h:
        fs = emu.add_file_system("LUSTRE", deployment_type="PERSISTENT_2")
        program = lambda: FsxBackup("nightly", file_system_id=fs, tags={"team": "data"})
        assert h.preview(program).ok and not h.preview(program).rpcs("Create")
        up = h.up(program).raise_for_errors()
        assert up.outputs_of("nightly")["lifecycle"] == "AVAILABLE"
        assert set(h.up(program).methods()) <= {"Configure", "Check", "Diff"}
        h.destroy()
"""

from .cloud import Cloud, CloudResource, EmulatorCloud, InMemoryCloud
from .engine import (
    DESTROY_NEEDS_RUN_PROGRAM,
    DYNAMIC_PREFIX,
    Harness,
    HarnessTimeout,
    RpcFailure,
    StepError,
    go_duration_seconds,
)
from .fake_engine import FakeEngine, LogRecord
from .host import ProviderHost, provider_environment
from .properties import PlaintextSecret, is_secret, plain, secret
from .records import (
    CheckFailure,
    Event,
    EventLog,
    PendingOperation,
    ResourceState,
    RpcRecord,
    RunResult,
    StackState,
)

__all__ = [
    "CheckFailure",
    "Cloud",
    "CloudResource",
    "DESTROY_NEEDS_RUN_PROGRAM",
    "DYNAMIC_PREFIX",
    "EmulatorCloud",
    "Event",
    "EventLog",
    "FakeEngine",
    "Harness",
    "HarnessTimeout",
    "InMemoryCloud",
    "LogRecord",
    "PendingOperation",
    "PlaintextSecret",
    "ProviderHost",
    "ResourceState",
    "RpcFailure",
    "RpcRecord",
    "RunResult",
    "StackState",
    "StepError",
    "go_duration_seconds",
    "is_secret",
    "plain",
    "provider_environment",
    "secret",
]
