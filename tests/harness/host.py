"""The provider process: ``python -u -m pulumi.dynamic <engine-address>``, started as the CLI does, and
a time-bounded gRPC client for it.

The CLI's plugin script runs exactly that command; the host prints its port as the first stdout line
and serves ``ResourceProvider`` on 127.0.0.1. Everything the process writes afterwards is drained (a
full pipe would block the provider) and kept for the tests (credential scans, diagnostics).
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Mapping, Optional

import grpc
from pulumi.runtime.proto import provider_pb2_grpc

STARTUP_TIMEOUT = 30.0

# Environment variables of the harness's own process that must not leak into the provider: the
# provider must see only what a test gives it (region, endpoint, the distinctive dummy credentials).
_SCRUBBED_PREFIXES = ("AWS_", "PULUMI_")


class ProviderStartError(RuntimeError):
    pass


class ProviderHost:
    """One provider process and its gRPC stub. Always ``stop()`` it (or use ``with``)."""

    def __init__(
        self,
        engine_address: str,
        env: Mapping[str, str],
        *,
        cwd: Optional[Path] = None,
        python: str = sys.executable,
        startup_timeout: float = STARTUP_TIMEOUT,
        plugin_dir: Optional[Path] = None,
    ) -> None:
        self.engine_address = engine_address
        # The dynamic host, or a `runtime: python` plugin as the CLI starts it: `python <dir> <engine>`.
        self.command = (
            [python, str(plugin_dir), engine_address] if plugin_dir is not None
            else [python, "-u", "-m", "pulumi.dynamic", engine_address]
        )
        self.env = dict(env)
        self.cwd = cwd
        self.startup_timeout = startup_timeout
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.port: Optional[int] = None
        self.stub: Any = None
        self.killed = False
        self.started_at = 0.0
        self.ready_at = 0.0
        self._channel: Optional[grpc.Channel] = None
        self._stdout: list[str] = []
        self._stderr: list[str] = []
        self._io_lock = threading.Lock()
        self._first_line: "queue.Queue[Optional[str]]" = queue.Queue()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "ProviderHost":
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            cwd=str(self.cwd) if self.cwd else None,
            start_new_session=True,  # a Ctrl-C in the test run must not reach it first
        )
        threading.Thread(target=self._drain, args=(self.process.stdout, self._stdout, True), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stderr, self._stderr, False), daemon=True).start()
        try:
            line = self._first_line.get(timeout=self.startup_timeout)
        except queue.Empty:
            self.stop()
            raise ProviderStartError(
                f"provider host printed no port within {self.startup_timeout}s; stderr:\n{self.stderr}"
            ) from None
        if line is None or not line.strip().isdigit():
            self.stop()
            raise ProviderStartError(f"provider host did not print a port (got {line!r}); stderr:\n{self.stderr}")
        self.port = int(line.strip())
        self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        grpc.channel_ready_future(self._channel).result(timeout=self.startup_timeout)
        self.stub = provider_pb2_grpc.ResourceProviderStub(self._channel)
        self.ready_at = time.monotonic()
        return self

    def _drain(self, stream: Any, sink: list[str], first_line_wanted: bool) -> None:
        first = first_line_wanted
        for raw in iter(stream.readline, b""):
            text = raw.decode("utf-8", "replace")
            if first:
                first = False
                self._first_line.put(text)
                continue
            with self._io_lock:
                sink.append(text)
        if first:
            self._first_line.put(None)  # EOF before the port: the process died

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid if self.process is not None else None

    def kill(self) -> None:
        """SIGKILL, like a crash or a second Ctrl-C: nothing in the provider gets to run."""
        if self.process is not None and self.process.poll() is None:
            self.killed = True
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """Terminate (SIGTERM, then SIGKILL) and release the channel. Idempotent."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for stream in (self.process.stdout, self.process.stderr) if self.process else ():
            if stream is not None:
                stream.close()

    def __enter__(self) -> "ProviderHost":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- output ----------------------------------------------------------------------------

    @property
    def stdout(self) -> str:
        with self._io_lock:
            return "".join(self._stdout)

    @property
    def stderr(self) -> str:
        with self._io_lock:
            return "".join(self._stderr)

    # -- calls -----------------------------------------------------------------------------

    def call(self, method: str, request: Any, timeout: float) -> Any:
        """Call a ResourceProvider method with a deadline (a hung provider fails the test)."""
        if self.stub is None:
            raise ProviderStartError("provider host not started")
        return getattr(self.stub, method)(request, timeout=timeout)


def provider_environment(
    base: Mapping[str, str],
    *,
    endpoint_url: Optional[str],
    region: Optional[str],
    credentials: Mapping[str, str],
    project: str,
    extra: Optional[Mapping[str, Optional[str]]] = None,
) -> dict[str, str]:
    """The provider's environment, as the CLI would pass it: the parent's environment minus AWS_* and
    PULUMI_* (the test decides those), plus endpoint, region, dummy credentials and ``extra``
    (a None value removes a variable)."""
    env = {k: v for k, v in base.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env.update(
        {
            # No shared config/credentials file and no instance metadata: only what the test sets.
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": credentials["access_key"],
            "AWS_SECRET_ACCESS_KEY": credentials["secret_key"],
            "AWS_SESSION_TOKEN": credentials["session_token"],
            "PULUMI_PROJECT": project,
            "PYTHONUNBUFFERED": "1",
        }
    )
    if endpoint_url:
        env["AWS_ENDPOINT_URL_FSX"] = endpoint_url
        env["AWS_ENDPOINT_URL_STS"] = endpoint_url  # the emulator answers STS on the same port
    if region:
        env["AWS_REGION"] = region
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env
