"""Real servers for tests, on 127.0.0.1 and free ports: SecantusDB (MongoDB wire protocol) and moto's S3."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pymongo


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def secantus_binary() -> str | None:
    here = Path(sys.executable).parent / "secantusd-py"
    return str(here) if here.exists() else shutil.which("secantusd-py")


OPLOG_MAX_ENTRIES = 2_000


class SecantusServer:
    """A SecantusDB subprocess; can be killed and restarted on the same port (fault tests)."""

    def __init__(self, *, test_commands: bool = True, storage_path: str = ":memory:") -> None:
        binary = secantus_binary()
        if binary is None:
            raise RuntimeError("secantusd-py is not installed (pip install secantusdb)")
        self.binary = binary
        self.port = free_port()
        self.storage_path = storage_path
        self.test_commands = test_commands
        self.proc: subprocess.Popen | None = None
        self.log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"secantusd-{self.port}.log"

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def start(self, timeout: float = 60.0) -> None:
        cmd = [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--storage-path", self.storage_path, "--log-level", "WARNING"]
        # The tests need no oplog (no change streams): a small cap keeps each pruning step short
        # (at the default 100,000 entries a pruning pass stalled every command for over a minute).
        cmd += ["--oplog-max-entries", str(OPLOG_MAX_ENTRIES), "--oplog-retention-seconds", "60"]
        if self.test_commands:
            cmd.append("--enable-test-commands")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        client = pymongo.MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
        try:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"secantusd-py exited with {self.proc.returncode}; see {self.log_path}")
                try:
                    client.admin.command("ping")
                    return
                except pymongo.errors.PyMongoError as exc:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"secantusd-py did not answer within {timeout}s; see {self.log_path}") from exc
                    time.sleep(0.2)
        finally:
            client.close()

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


class S3Server:
    """moto's threaded S3 server over real HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()


class ServeProcess:
    """`python -m code_console serve --port 0`; its JSON log says which port it bound."""

    def __init__(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "code_console", "serve", "--host", "127.0.0.1", "--port", "0"]
        if not env.get("CODE_CONSOLE_MONGO_URI"):
            command.append("--embedded")  # serve refuses to start without MongoDB unless told
        self.proc = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.port: int | None = None
        self.lines: list[str] = []
        # Set when the server listens, or when its log closes because it died first.
        self.started_or_died = threading.Event()
        # Drains the log for the whole run, so a full pipe can never stall the server.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("msg") == "listening":
                self.port = record["port"]
                self.started_or_died.set()
        self.started_or_died.set()

    def wait_listening(self, timeout: float = 60) -> None:
        self.started_or_died.wait(timeout)
        if self.port is None:
            raise RuntimeError("code-console serve did not start:\n" + "".join(self.lines[-20:]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
