"""What an engine call runs with: time and the shared pollers of the process (``Runtime``: the clock
and sleep every wait uses, one ``BackupWatcher`` and one ``TargetLookups`` per FSx client), plus the
provider's configured region and the engine's log (``Env``).

Tests pass a ``Runtime`` on a fake clock; ``SHARED`` is the process's own (real time).
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from . import fsx
from .connection import DEFAULT as DEFAULT_SETTINGS
from .connection import AwsSettings
from .eligibility import Failure
from .lookups import TargetLookups
from .progress import Log
from .watcher import BackupWatcher, WaitFn, condition_wait

# The lifecycles that end a wait: AVAILABLE, or FAILED (the caller deletes it and reports why).
SETTLED = (fsx.BACKUP_DONE_STATE, fsx.BACKUP_FAILED_STATE)


@dataclass
class Runtime:
    """Clock, sleep and per-client shared pollers. Tests pass fakes; production uses the defaults."""

    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    wait: Optional[WaitFn] = None
    """How the shared watcher and look-ups wait on their condition; default: the condition's own
    wait with the real sleep, else ``sleep`` (a fake sleep that advances a fake clock)."""
    # id(client) -> (client, its poller): the client is kept and compared, so that a freed client's
    # successor at the same address never inherits its poller.
    _watchers: dict[int, tuple[Any, BackupWatcher]] = field(default_factory=dict)
    _lookups: dict[int, tuple[Any, TargetLookups]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def deadline(self, timeout_seconds: float) -> float:
        return self.clock() + float(timeout_seconds)

    def wait_fn(self) -> WaitFn:
        if self.wait is not None:
            return self.wait
        if self.sleep is time.sleep:
            return condition_wait
        sleep = self.sleep
        return lambda _condition, seconds: sleep(seconds)

    def watcher(self, client: Any) -> BackupWatcher:
        """The poller of ``client``'s region: one DescribeBackups per round for every wait."""
        with self._lock:
            found = self._watchers.get(id(client))
            watcher = found[1] if found is not None and found[0] is client else None
            if watcher is None:
                watcher = BackupWatcher(
                    functools.partial(fsx.describe_backups, fsx.polling_client(client), retry=False),
                    settled=SETTLED,
                    is_transient=fsx.is_transient,
                    as_error=fsx.as_package_error,
                    clock=self.clock,
                    wait=self.wait_fn(),
                )
                self._watchers[id(client)] = (client, watcher)
            return watcher

    def lookups(self, client: Any) -> TargetLookups:
        """The coalesced target look-ups of ``client``'s region (preview checks)."""
        with self._lock:
            found = self._lookups.get(id(client))
            lookups = found[1] if found is not None and found[0] is client else None
            if lookups is None:
                lookups = TargetLookups(client, clock=self.clock, wait=self.wait_fn())
                self._lookups[id(client)] = (client, lookups)
            return lookups


SHARED = Runtime()
"""The runtime of this process: real time, and the pollers every engine call of the process shares."""


@dataclass(frozen=True)
class Env:
    """One engine call's surroundings: the stack config's AWS settings (`aws:region`, `aws:profile`
    ...: the default AWS provider's), the process's runtime and the engine's log."""

    config_region: Optional[str]
    runtime: Runtime
    log: Log
    config: AwsSettings = DEFAULT_SETTINGS
    config_failures: tuple[Failure, ...] = ()  # what is wrong with the stack's `aws:*` settings

    def settings(self, given: AwsSettings) -> AwsSettings:
        """The settings to act with: the request's (component arguments, the target's and the
        component's providers), each field falling back to the stack config's."""
        return given.over(self.config)

    def region(self, explicit: Optional[str], settings: AwsSettings = DEFAULT_SETTINGS) -> Optional[str]:
        """The region to talk to: the `region` input, else the target's / the component's provider's,
        else `aws:region`, else AWS_REGION / the profile's."""
        return explicit or settings.region or self.config_region or fsx.default_region(settings)
