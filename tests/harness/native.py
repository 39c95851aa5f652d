"""The engine for the native plugin (provider/): starts it exactly as the Pulumi CLI starts a
``runtime: python`` plugin (``python <plugin dir> <engine address>``, the port read from the first
stdout line) and drives it over real gRPC as the engine does: Handshake, GetPluginInfo, GetSchema,
CheckConfig, Configure, Check, Diff, Create, Read, Update, Delete, Cancel; and Construct with a
ResourceMonitor of its own, which routes the component's child registrations back to the plugin's
CRUD (Check, then Diff and Update, or Create), as the engine routes them to the default provider of
the package.

A Construct is what the engine sends when a program in any language registers the component
(every generated SDK registers it with ``remote=True``), so it stands for TypeScript, Go, C#, YAML.

State is kept between runs per URN (type, ID, inputs, outputs as the wire carries them: secrets stay
wrapped), so `up` twice, refresh, import and destroy behave as with the CLI; a create that fails with
``ErrorResourceInitFailed`` is recorded as partial state, as the engine does.
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent import futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import grpc
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import provider_pb2, resource_pb2, resource_pb2_grpc, status_pb2

from .fake_engine import FakeEngine
from .host import ProviderHost, provider_environment

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "provider"
CREDENTIALS = {"access_key": "AKIANATIVEPLUGINTEST", "secret_key": "native-plugin-secret-key", "session_token": "native-session"}
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
COMPONENT = "fsx-backup:index:FsxBackup"
BACKUP = "fsx-backup:index:Backup"
LIFE = "fsx-backup:index:Life"


def secret(value: Any) -> dict[str, Any]:
    return {**SECRET_SIG, "value": value}


def struct(values: dict[str, Any]) -> struct_pb2.Struct:
    s = struct_pb2.Struct()
    s.update(values)
    return s


def to_dict(s: struct_pb2.Struct) -> dict[str, Any]:
    return json_format.MessageToDict(s)


def plain(value: Any) -> Any:
    """Secrets unwrapped, at any depth."""
    if isinstance(value, dict):
        if value.get("4dabf18193072939515e22adb298388d") == SECRET_SIG["4dabf18193072939515e22adb298388d"]:
            return plain(value.get("value"))
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get("4dabf18193072939515e22adb298388d") == SECRET_SIG["4dabf18193072939515e22adb298388d"]


@dataclass
class Stored:
    type: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    partial: bool = False


@dataclass
class Failure:
    """An RPC the plugin refused: its code, the message the user would see, and its details."""

    method: str
    code: grpc.StatusCode
    message: str
    init_failed: Optional[provider_pb2.ErrorResourceInitFailed] = None


@dataclass
class ConstructRun:
    outputs: dict[str, Any]
    urn: str
    registrations: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)


class PluginError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(f"{failure.method}: {failure.code.name}: {failure.message}")
        self.failure = failure


class NativeEngine:
    """``with NativeEngine(emu) as engine: engine.up(BACKUP, "nightly", {...})``"""

    def __init__(
        self, emulator: Any, *, region: str = "us-east-1", stack: str = "dev", project: str = "native",
        config: Optional[dict[str, str]] = None, rpc_timeout: float = 120.0,
        env_extra: Optional[dict[str, Optional[str]]] = None,
    ) -> None:
        self.emulator = emulator
        self.region, self.stack, self.project = region, stack, project
        self.config = dict(config or {})
        self.rpc_timeout = rpc_timeout
        self.env_extra = env_extra
        self.state: dict[str, Stored] = {}
        self.calls: list[str] = []
        self.failures: list[Failure] = []
        self.log = FakeEngine()
        self.plugin: Optional[ProviderHost] = None
        self._monitor: Optional[grpc.Server] = None
        self.monitor_address = ""
        self._lock = threading.Lock()
        self._run: Optional[ConstructRun] = None
        self._dry_run = False

    # -- processes ---------------------------------------------------------------------------

    def start(self) -> "NativeEngine":
        self.log.start()
        self.plugin = self.spawn()
        return self

    def spawn(self) -> ProviderHost:
        env = provider_environment(
            os.environ, endpoint_url=self.emulator.endpoint_url, region=self.region,
            credentials=CREDENTIALS, project=self.project, extra=self.env_extra,
        )
        host = ProviderHost(self.log.address, env, plugin_dir=PLUGIN_DIR, python=sys.executable)
        host.start()
        return host

    def restart(self) -> None:
        """A new plugin process, as each `pulumi` command starts one."""
        if self.plugin is not None:
            self.plugin.stop()
        self.plugin = self.spawn()
        self.configured = False

    def kill(self) -> None:
        assert self.plugin is not None
        self.plugin.kill()

    def close(self) -> None:
        if self.plugin is not None:
            self.plugin.stop()
        if self._monitor is not None:
            self._monitor.stop(grace=0).wait(5)
        self.log.stop()

    def __enter__(self) -> "NativeEngine":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- raw calls ---------------------------------------------------------------------------

    configured = False

    def call(self, method: str, request: Any, timeout: Optional[float] = None) -> Any:
        assert self.plugin is not None
        self.calls.append(method)
        try:
            return self.plugin.call(method, request, timeout or self.rpc_timeout)
        except grpc.RpcError as err:
            failure = Failure(method, err.code(), err.details() or "", _init_failed(err))
            self.failures.append(failure)
            raise PluginError(failure) from None

    def configure(self, variables: Optional[dict[str, str]] = None) -> Any:
        self.call("Handshake", provider_pb2.ProviderHandshakeRequest(engine_address=self.log.address))
        answer = self.call("Configure", provider_pb2.ConfigureRequest(
            variables=variables or {}, args=struct({}), acceptSecrets=True, acceptResources=True,
        ))
        self.configured = True
        return answer

    def urn(self, type_: str, name: str, parent_type: Optional[str] = None) -> str:
        chain = f"{parent_type}${type_}" if parent_type else type_
        return f"urn:pulumi:{self.stack}::{self.project}::{chain}::{name}"

    # -- engine steps for one custom resource -------------------------------------------------

    def check(self, urn: str, news: dict[str, Any] | struct_pb2.Struct) -> tuple[struct_pb2.Struct, list[tuple[str, str]]]:
        if not self.configured:
            self.configure()
        old = self.state.get(urn)
        response = self.call("Check", provider_pb2.CheckRequest(
            urn=urn, olds=struct(old.inputs if old else {}), news=news if isinstance(news, struct_pb2.Struct) else struct(news),
            type=urn.split("::")[-2].split("$")[-1], name=urn.split("::")[-1],
        ))
        return response.inputs, [(f.property, f.reason) for f in response.failures]

    def step(self, urn: str, news: dict[str, Any] | struct_pb2.Struct, *, preview: bool = False) -> dict[str, Any]:
        """Check, then Diff and Update, or Create (or, in a preview, only Check and Diff). Returns the
        outputs (wire form); a check failure raises PluginError."""
        type_ = urn.split("::")[-2].split("$")[-1]
        name = urn.split("::")[-1]
        inputs, failures = self.check(urn, news)
        if failures:
            failure = Failure("Check", grpc.StatusCode.INVALID_ARGUMENT, "; ".join(f"{p}: {r}" for p, r in failures))
            self.failures.append(failure)
            raise PluginError(failure)
        old = self.state.get(urn)
        if old is not None:
            diff = self.call("Diff", provider_pb2.DiffRequest(
                id=old.id, urn=urn, olds=struct(old.outputs), news=inputs, old_inputs=struct(old.inputs), type=type_, name=name,
            ))
            if diff.changes != provider_pb2.DiffResponse.DIFF_SOME:
                return old.outputs
            if preview:
                return {**old.outputs, **to_dict(inputs)}
            if diff.replaces:
                self._create(urn, type_, name, inputs, replacing=old)
                return self.state[urn].outputs
            try:
                response = self.call("Update", provider_pb2.UpdateRequest(
                    id=old.id, urn=urn, olds=struct(old.outputs), news=inputs, old_inputs=struct(old.inputs),
                    type=type_, name=name,
                ))
            except PluginError as exc:
                self._record_partial(urn, type_, exc.failure)
                raise
            self.state[urn] = Stored(type_, old.id, to_dict(inputs), to_dict(response.properties))
            return self.state[urn].outputs
        if preview:
            return to_dict(inputs)
        self._create(urn, type_, name, inputs)
        return self.state[urn].outputs

    def _create(self, urn: str, type_: str, name: str, inputs: struct_pb2.Struct, replacing: Optional[Stored] = None) -> None:
        try:
            response = self.call("Create", provider_pb2.CreateRequest(urn=urn, properties=inputs, type=type_, name=name))
        except PluginError as exc:
            self._record_partial(urn, type_, exc.failure)
            raise
        self.state[urn] = Stored(type_, response.id, to_dict(inputs), to_dict(response.properties))
        if replacing is not None:
            self.call("Delete", provider_pb2.DeleteRequest(
                id=replacing.id, urn=urn, properties=struct(replacing.outputs), old_inputs=struct(replacing.inputs),
                type=type_, name=name,
            ))

    def _record_partial(self, urn: str, type_: str, failure: Failure) -> None:
        detail = failure.init_failed
        if detail is not None:
            # The engine records a resource that was created but did not finish, and its state.
            self.state[urn] = Stored(type_, detail.id, to_dict(detail.inputs), to_dict(detail.properties), partial=True)

    def read(self, urn: str, resource_id: str, *, import_: bool = False) -> provider_pb2.ReadResponse:
        if not self.configured:
            self.configure()
        old = None if import_ else self.state.get(urn)
        type_ = urn.split("::")[-2].split("$")[-1]
        response = self.call("Read", provider_pb2.ReadRequest(
            id=resource_id, urn=urn, properties=struct(old.outputs if old else {}),
            inputs=struct(old.inputs if old else {}), type=type_, name=urn.split("::")[-1],
        ))
        if response.id:
            self.state[urn] = Stored(type_, response.id, to_dict(response.inputs), to_dict(response.properties))
        else:
            self.state.pop(urn, None)
        return response

    def refresh(self) -> None:
        for urn, stored in list(self.state.items()):
            if stored.type != COMPONENT:
                self.read(urn, stored.id)

    def delete(self, urn: str) -> None:
        if not self.configured:
            self.configure()
        stored = self.state[urn]
        if stored.type != COMPONENT:
            self.call("Delete", provider_pb2.DeleteRequest(
                id=stored.id, urn=urn, properties=struct(stored.outputs), old_inputs=struct(stored.inputs),
                type=stored.type, name=urn.split("::")[-1],
            ))
        del self.state[urn]

    def destroy(self) -> None:
        # Children before parents, newest first, as the engine deletes.
        for urn in reversed(list(self.state)):
            self.delete(urn)

    # -- Construct -----------------------------------------------------------------------------

    def construct(self, name: str, inputs: dict[str, Any], *, dry_run: bool = False,
                  config: Optional[dict[str, str]] = None, secret_keys: tuple[str, ...] = ()) -> ConstructRun:
        """What the engine does for ``FsxBackup(name, ..., remote=True)`` in a program of any language."""
        if not self.configured:
            self.configure()
        self._ensure_monitor()
        run = ConstructRun(outputs={}, urn="")
        with self._lock:
            self._run, self._dry_run = run, dry_run
        response = self.call("Construct", provider_pb2.ConstructRequest(
            project=self.project, stack=self.stack, config={**self.config, **(config or {})},
            configSecretKeys=list(secret_keys), dryRun=dry_run, parallel=16, monitorEndpoint=self.monitor_address,
            type=COMPONENT, name=name, inputs=struct(inputs), organization="organization",
        ))
        run.urn, run.outputs = response.urn, to_dict(response.state)
        return run

    def _ensure_monitor(self) -> None:
        if self._monitor is None:
            server = grpc.server(futures.ThreadPoolExecutor(max_workers=64))
            resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(self), server)
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            self._monitor, self.monitor_address = server, f"127.0.0.1:{port}"


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The engine's ResourceMonitor, as the plugin's Construct sees it."""

    def __init__(self, engine: NativeEngine) -> None:
        self.engine = engine

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetDeploymentInfo")  # older engines, as the SDK expects

    def SupportsFeature(self, request: Any, context: Any) -> Any:  # noqa: N802
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id != "invokeTransforms")

    def RegisterResource(self, request: Any, context: Any) -> Any:  # noqa: N802
        engine = self.engine
        parent_type = request.parent.split("::")[-2] if request.parent else None
        urn = engine.urn(request.type, request.name, parent_type)
        run = engine._run
        if run is not None:
            run.registrations.append(urn)
        if not request.custom:
            engine.state.setdefault(urn, Stored(request.type, "", {}, {}))
            return resource_pb2.RegisterResourceResponse(urn=urn)
        try:
            outputs = engine.step(urn, request.object, preview=engine._dry_run)
        except PluginError as exc:
            if run is not None:
                run.failures.append(exc.failure)
            context.abort(exc.failure.code if exc.failure.code != grpc.StatusCode.INVALID_ARGUMENT else grpc.StatusCode.UNKNOWN,
                          exc.failure.message)
        stored = engine.state.get(urn)
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=stored.id if stored and not engine._dry_run else "", object=struct(outputs),
        )

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:  # noqa: N802
        stored = self.engine.state.get(request.urn)
        if stored is not None:
            stored.outputs = to_dict(request.outputs)
        return empty_pb2.Empty()


def _init_failed(err: grpc.RpcError) -> Optional[provider_pb2.ErrorResourceInitFailed]:
    for key, value in err.trailing_metadata() or ():  # type: ignore[attr-defined]
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                found = provider_pb2.ErrorResourceInitFailed()
                if detail.Unpack(found):
                    return found
    return None
