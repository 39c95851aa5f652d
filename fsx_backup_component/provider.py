"""The engine adapter: translates the dynamic-provider host's calls into one domain call each
(checks.py, changes.py, resource.py) and the answers back into the engine's result types.

Props in, a typed request (state.Request) or stored state (state.BackupState) to one domain call, a
typed state out: no AWS call and no business rule here. The class is pickled *by reference* into
every stack's state (``__provider``), so its import path
``fsx_backup_component.provider.BackupProvider`` must never change, and the instance carries no state
(no client, no credentials, no config): everything it needs is built inside the host process.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    ResourceProvider,
    UpdateResult,
)

from . import changes, checks, connection, host, progress, resource, runtime
from .eligibility import Failure
from .state import BackupState, Request

# The one thing done at import: inside `python -m pulumi.dynamic`, widen the host's thread pool so
# that waits overlap (host.py). Fail-safe: a failure is one warning, never an import error.
host.widen_if_in_dynamic_host(warn=lambda message: progress.engine_log().warn("", message))

PROVIDER_KEY = "__provider"


class BackupProvider(ResourceProvider):
    """Engine-facing provider of ``fsx-backup:index:FsxBackup``'s child resource."""

    def __init__(self) -> None:
        self._config_region: Optional[str] = None
        self._config = connection.DEFAULT
        self._config_failures: tuple[Failure, ...] = ()

    def __getstate__(self) -> dict[str, Any]:
        # Nothing configured in a host process may ever reach `__provider` in state.
        return {}

    def __setstate__(self, state: Mapping[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def configure(self, req: ConfigureRequest) -> None:
        # The stack's `aws:*` config is the default AWS provider's: what a target without an
        # explicit provider is reached with.
        settings, failures = connection.settings_from_config(req.config)
        self._config_region, self._config, self._config_failures = settings.region, settings, tuple(failures)

    def _env(self) -> runtime.Env:
        return runtime.Env(
            self._config_region, runtime.SHARED, progress.engine_log(), self._config, self._config_failures
        )

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        inputs, failures = checks.check(olds, news, self._env())
        return CheckResult(inputs, [CheckFailure(f.property, f.reason) for f in failures])

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        found = changes.diff(olds, news)
        return DiffResult(
            changes=bool(found.changed),
            replaces=found.replaces,
            stables=found.stables,
            delete_before_replace=False,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        state = resource.create(Request.read(props), self._env())
        return CreateResult(id_=state["backup_id"], outs=dict(state))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        state = resource.read(id_, _stored(props), self._env())
        if state is None:
            # Deleted outside Pulumi: an empty ID tells the engine the resource is gone.
            return ReadResult("", {})
        return ReadResult(id_=id_, outs=dict(state))

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        state = resource.update(id_, _stored(olds), Request.read(news), self._env())
        return UpdateResult(outs=dict(state))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        resource.delete(id_, _stored(props), self._env())


def _stored(props: Mapping[str, Any]) -> BackupState:
    """Old outputs as the host hands them: the stored state, without the host's own key."""
    return BackupState(**{k: v for k, v in props.items() if k != PROVIDER_KEY})  # type: ignore[typeddict-item]
