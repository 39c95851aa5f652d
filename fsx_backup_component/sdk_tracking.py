"""The Pulumi SDK's end-of-program wait, kept linear in the number of backups: the second of the two
places (with host.py) that touch private SDK internals.

Why: the Python SDK tracks every Output's task in ``SETTINGS.outputs``, and at the end of the
program (``pulumi/runtime/stack.py`` ``wait_for_rpcs``) it calls ``asyncio.wait(every tracked task,
FIRST_COMPLETED)`` again after each completion. A program whose body returns at once (the usual
case) reaches that loop before any registration has started, so the wait over outputs is the one
that runs for the whole deployment: each completion costs a pass over all tracked tasks, and a stack
of N backups pays O(N^2). With the ~40 Outputs one ``FsxBackup`` makes (29 of them the dynamic
child's properties), 256 backups spent ~50 s of CPU there and spread their creates over ~25 s
(BENCHMARKS.md).

What: ``awaited_by_registrations`` stops tracking the Outputs made while one component is built.
Each of them is a property of a resource the component registers (resolved by that registration),
or a value derived for an input of a registration or for ``register_outputs``; the SDK awaits every
registration RPC before the program ends and fails the program on the first failure, so a fault in
any of them still fails ``pulumi up``, through the RPC that needed it (tests/component/
test_output_tracking.py shows both). The SDK itself stops tracking an Output the same way when a
derived Output takes over (``Output.apply``). Outputs made outside the block (the user's own) stay
tracked.

If the internals move, nothing breaks: the Outputs stay tracked and only the quadratic cost comes
back. tests/unit/test_sdk_tracking.py fails loudly when they move.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional


def _tracked_set() -> Optional[tuple[Any, Any]]:
    """(the SDK's set of tracked Output tasks, its lock), or None when this SDK keeps neither."""
    try:
        from pulumi.runtime.settings import SETTINGS

        outputs, lock = SETTINGS.outputs, SETTINGS.lock
    except (ImportError, AttributeError, LookupError):
        return None
    if not hasattr(outputs, "difference") or not hasattr(lock, "__enter__"):
        return None
    return outputs, lock


@contextlib.contextmanager
def awaited_by_registrations() -> Iterator[None]:
    """Within the block, build only resources and the values they take or report (see the module
    docstring); the Outputs made in it are left to the registrations that await them."""
    tracked = _tracked_set()
    before = set(tracked[0]) if tracked is not None else set()
    yield
    if tracked is None:
        return
    outputs, lock = tracked
    with lock:
        # A task that already finished has left the set on its own (and one that failed stays
        # out of it too, now: its registration reports the failure).
        for task in outputs.difference(before):
            outputs.discard(task)


def tracked_count() -> Optional[int]:
    """How many Output tasks the SDK tracks now (None when it keeps no such set): for tests and the bench."""
    tracked = _tracked_set()
    return None if tracked is None else len(tracked[0])
