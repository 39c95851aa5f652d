"""The native plugin's gRPC server: the engine's ResourceProvider calls for package ``fsx-backup``.

Construct (the ``FsxBackup`` component, for programs in any language) is the SDK's own
``pulumi.provider.server.ProviderServicer``; every other call is written here on the proto messages,
because the SDK's servers answer Check/Diff/Create/Read/Update/Delete UNIMPLEMENTED or drop what the
engine sends (docs/native.md). Blocking domain calls (waits on FSx) run on this server's own thread
pool, never on the asyncio loop, and every error leaves as one clean message: no Python traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import resources as package_files
from typing import Any, Callable, Optional, TypeVar

import grpc
import grpc.aio
from google.protobuf import empty_pb2
from pulumi.provider.server import ProviderServicer
from pulumi.runtime._grpc_settings import _GRPC_CHANNEL_OPTIONS
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc, status_pb2

from .. import connection, progress
from ..errors import BackupTimeoutError, FsxBackupError, PropertyError
from ..runtime import Env, Runtime
from . import resources, wire
from .component import ComponentProvider

PACKAGE = "fsx-backup"
VERSION = "0.1.0"
# Waiting creates each hold a thread for as long as their backup takes; the pool grows on demand.
MAX_WORKERS = 2048
# How soon a wait notices a cancel: waits wake at least this often to look at the clock.
CANCEL_CHECK_SECONDS = 0.25

T = TypeVar("T")


def schema_text() -> str:
    return (package_files.files(__package__) / "schema.json").read_text()


class Cancellation:
    """The plugin's clock and sleep: real time until the engine cancels the run, after which every
    deadline has passed, so each wait ends (its backup recorded as partial state) within a moment."""

    def __init__(self) -> None:
        self.event = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self.event.is_set()

    def clock(self) -> float:
        return time.monotonic() + (1e12 if self.event.is_set() else 0.0)

    def sleep(self, seconds: float) -> None:
        self.event.wait(max(0.0, seconds))

    def wait(self, condition: threading.Condition, seconds: float) -> None:
        condition.wait(min(max(0.0, seconds), CANCEL_CHECK_SECONDS))


class _Status(grpc.Status):
    def __init__(self, code: grpc.StatusCode, details: str, trailing_metadata: tuple[Any, ...]) -> None:
        self.code, self.details, self.trailing_metadata = code, details, trailing_metadata


def init_failed_status(message: str, outcome: resources.Outcome, inputs: wire.Props) -> _Status:
    """A resource created but not finished: the engine records its ID and state (partial state) and
    the next `up` continues from it."""
    detail = provider_pb2.ErrorResourceInitFailed(
        id=outcome.id,
        properties=wire.write(outcome.outputs, outcome.secret),
        reasons=[message],
        inputs=wire.write(inputs.values, inputs.secret),
    )
    status = status_pb2.Status(code=grpc.StatusCode.UNKNOWN.value[0], message=message)
    status.details.add().Pack(detail)
    return _Status(grpc.StatusCode.UNKNOWN, message, (("grpc-status-details-bin", status.SerializeToString()),))


class FsxBackupServicer(ProviderServicer):
    """Package ``fsx-backup``: the component (Construct) and its custom resources (CRUD)."""

    def __init__(self, engine_address: str, *, runtime: Optional[Runtime] = None) -> None:
        super().__init__(ComponentProvider(VERSION, schema_text()), [], engine_address)
        self.cancellation = Cancellation()
        c = self.cancellation
        self.runtime = runtime or Runtime(clock=c.clock, sleep=c.sleep, wait=c.wait)
        self.executor = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="fsx-backup")
        self.config_region: Optional[str] = None
        self.config = connection.DEFAULT
        self.config_failures: tuple[Any, ...] = ()

    def env(self) -> Env:
        return Env(self.config_region, self.runtime, progress.engine_log(), self.config, self.config_failures)

    async def _run(self, context: Any, what: str, call: Callable[[], T]) -> T:
        """Run a blocking domain call on the pool; a domain error becomes one clean message."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, call)
        except FsxBackupError as exc:
            await context.abort(grpc.StatusCode.UNKNOWN, resources.engine_text(str(exc)))
        except Exception as exc:  # noqa: BLE001 - a bug must still reach the user as one line
            traceback.print_exc(file=sys.stderr)  # the plugin's log (`pulumi -v`), not the user's screen
            await context.abort(
                grpc.StatusCode.INTERNAL,
                f"fsx-backup: {what} failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug in the "
                "fsx-backup plugin: please report it with the output of `pulumi up -v=9 --logtostderr`",
            )
        raise AssertionError("unreachable")  # context.abort raises

    # -- plugin ------------------------------------------------------------------------------

    async def Handshake(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC names
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=True, accept_outputs=True)

    async def GetPluginInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        return plugin_pb2.PluginInfo(version=VERSION)

    async def GetSchema(self, request: Any, context: Any) -> Any:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=schema_text())

    async def CheckConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        news = wire.read(request.news)
        _, failures = connection.settings_from_config(_AwsConfig(news.values))
        return provider_pb2.CheckResponse(
            inputs=request.news,
            failures=[provider_pb2.CheckFailure(property=f.property, reason=f.reason) for f in failures],
        )

    async def DiffConfig(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, news = wire.read(request.olds), wire.read(request.news)
        changed = olds.values != news.values
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if changed else provider_pb2.DiffResponse.DIFF_NONE
        )

    async def Configure(self, request: Any, context: Any) -> Any:  # noqa: N802
        values: dict[str, Any] = dict(request.variables)
        if request.HasField("args"):
            values.update(wire.read(request.args).values)
        settings, failures = connection.settings_from_config(_AwsConfig(values))
        self.config_region, self.config, self.config_failures = settings.region, settings, tuple(failures)
        return provider_pb2.ConfigureResponse(acceptSecrets=True, acceptResources=True, acceptOutputs=True)

    async def Cancel(self, request: Any, context: Any) -> Any:  # noqa: N802
        self.cancellation.event.set()
        return empty_pb2.Empty()

    # -- custom resources --------------------------------------------------------------------

    async def Check(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, news = wire.read(request.olds), wire.read(request.news)
        if _type(request) == resources.LIFE_TYPE:
            answer = resources.check_life(news)
        else:
            answer = await self._run(context, "check", partial(resources.check_backup, request.urn, olds, news, self.env()))
        return provider_pb2.CheckResponse(
            inputs=wire.write(answer.inputs, answer.secret),
            failures=[provider_pb2.CheckFailure(property=f.property, reason=f.reason) for f in answer.failures],
        )

    async def Diff(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, news = wire.read(request.olds), wire.read(request.news)
        if _type(request) == resources.LIFE_TYPE:
            answer = resources.diff_life(olds, news)
        else:
            answer = await self._run(context, "diff", partial(resources.diff_backup, request.urn, olds, news))
        kind = provider_pb2.DiffResponse.DIFF_SOME if answer.changes else provider_pb2.DiffResponse.DIFF_NONE
        return provider_pb2.DiffResponse(
            changes=kind, replaces=answer.replaces, stables=answer.stables, diffs=answer.changed,
            deleteBeforeReplace=False,
        )

    async def Create(self, request: Any, context: Any) -> Any:  # noqa: N802
        news = wire.read(request.properties)
        if _type(request) == resources.LIFE_TYPE:
            outcome = resources.create_life(news)
        else:
            outcome = await self._resumable(
                context, request.urn, news, partial(resources.create_backup, request.urn, news, self.env())
            )
        return provider_pb2.CreateResponse(id=outcome.id, properties=wire.write(outcome.outputs, outcome.secret))

    async def Update(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, news = wire.read(request.olds), wire.read(request.news)
        if _type(request) == resources.LIFE_TYPE:
            outcome = resources.update_life(request.id, olds, news)
        else:
            outcome = await self._resumable(
                context, request.urn, news,
                partial(resources.update_backup, request.id, request.urn, olds, news, self.env()),
            )
        return provider_pb2.UpdateResponse(properties=wire.write(outcome.outputs, outcome.secret))

    async def _resumable(self, context: Any, urn: str, news: wire.Props, call: Callable[[], resources.Outcome]) -> resources.Outcome:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self.executor, call)
        except BackupTimeoutError as exc:
            if self.cancellation.cancelled:
                message = (
                    f"the update was cancelled while FSx backup {exc.backup_id} was {exc.lifecycle}: it is "
                    "recorded in the stack, and the next `pulumi up` goes on waiting for the same backup"
                )
            else:
                message = resources.engine_text(str(exc))
            outcome = resources.partial_outcome(urn, news, exc.backup_id, exc.lifecycle, self.env())
            await context.abort_with_status(init_failed_status(message, outcome, news))
        except FsxBackupError as exc:
            await context.abort(grpc.StatusCode.UNKNOWN, resources.engine_text(str(exc)))
        except Exception as exc:  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            await context.abort(
                grpc.StatusCode.INTERNAL,
                f"fsx-backup: the backup step failed unexpectedly ({type(exc).__name__}: {exc}); this is a bug "
                "in the fsx-backup plugin: please report it with the output of `pulumi up -v=9 --logtostderr`",
            )
        raise AssertionError("unreachable")

    async def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        olds, old_inputs = wire.read(request.properties), wire.read(request.inputs)
        if _type(request) == resources.LIFE_TYPE:
            life = resources.read_life(request.id, olds)
            return provider_pb2.ReadResponse(
                id=life.id, properties=wire.write(life.outputs, life.secret),
                inputs=wire.write({"generation": life.outputs.get("generation")}, life.secret),
            )
        found = await self._run(
            context, "read", partial(resources.read_backup, request.id, request.urn, olds, old_inputs, self.env())
        )
        if found is None:
            return provider_pb2.ReadResponse(id="")  # gone: the engine drops it from the stack
        outcome, inputs, input_secret = found
        return provider_pb2.ReadResponse(
            id=outcome.id, properties=wire.write(outcome.outputs, outcome.secret),
            inputs=wire.write(inputs, input_secret),
        )

    async def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        if _type(request) != resources.LIFE_TYPE:
            olds = wire.read(request.properties)
            await self._run(context, "delete", partial(resources.delete_backup, request.id, olds, self.env()))
        return empty_pb2.Empty()

    # -- the component -----------------------------------------------------------------------

    async def Construct(self, request: Any, context: Any) -> Any:  # noqa: N802
        try:
            return await self._construct(request, context)
        except PropertyError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"{request.type} {request.name!r}: {exc}")
        except FsxBackupError as exc:
            await context.abort(grpc.StatusCode.UNKNOWN, f"{request.type} {request.name!r}: {exc}")
        except grpc.aio.AbortError:
            raise
        except Exception as exc:  # noqa: BLE001
            # A child's registration refused by the engine (its Check failures, already shown to the
            # user by the engine) arrives here as the SDK's error: one line, no traceback.
            await context.abort(grpc.StatusCode.UNKNOWN, _first_line(str(exc)) or type(exc).__name__)
        raise AssertionError("unreachable")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _type(request: Any) -> str:
    """The resource type, from the request or its URN (older engines send only the URN)."""
    return request.type or str(request.urn).split("::")[-2].split("$")[-1]


class _AwsConfig:
    """The plugin's config (``fsx-backup:region``, or the names as `aws:*` settings) seen as the
    stack's `aws:*` config, which connection.settings_from_config reads."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = {}
        for key, value in values.items():
            name = key.split(":", 1)[-1]
            self.values[f"aws:{name}"] = value if isinstance(value, str) or value is None else json.dumps(value)

    def get(self, key: str) -> Any:
        return self.values.get(key)


def main(argv: Optional[list[str]] = None) -> None:
    """Serve on 127.0.0.1, print the port as the first (and only) line of stdout, as the CLI expects."""
    parser = argparse.ArgumentParser(prog="fsx-backup", description="fsx-backup Pulumi provider plugin")
    parser.add_argument("engine", help="the Pulumi engine's address")
    parser.add_argument("--logflow", action="store_true")
    parser.add_argument("--logtostderr", action="store_true")
    parser.add_argument("-v", type=int, default=0)
    parser.add_argument("--tracing", default=None)
    args, _ = parser.parse_known_args(argv)

    async def serve() -> None:
        server = grpc.aio.server(options=_GRPC_CHANNEL_OPTIONS)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(FsxBackupServicer(args.engine), server)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        sys.stdout.write(f"{port}\n")
        sys.stdout.flush()
        await server.wait_for_termination()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass
