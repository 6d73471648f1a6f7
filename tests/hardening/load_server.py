"""A plain-HTTP gunicorn for the login-load test: a temp SQLite file, the demo tenant, its own process group.

    with gunicorn_trustframe(tmp_path, workers=2, threads=8, env={"PASSWORD_HASH_CONCURRENCY": "4"}) as server:
        server.port, server.demo["native_client_id"], server.group_rss_kib(), server.log_tail() ...

The approach of tests/flows/tls_server.py without TLS (migrate and `demotenant` through manage.py, wait
for /healthz, always kill the group). Only 127.0.0.1 is used.
"""

import http.client
import json
import os
import secrets
import socket
import string
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.flows.processes import free_port, gunicorn_path, manage, stop_process_group, wait_until_answering

ROOT = Path(__file__).resolve().parents[2]
TENANT = "contoso.onmicrosoft.com"


@dataclass
class LoadServer:
    port: int
    pid: int
    log_path: Path
    demo: dict = field(default_factory=dict)

    def group_pids(self) -> list[int]:
        """Every live process in the server's process group (gunicorn's master and its workers)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
            if int(fields[2]) == self.pid:
                pids.append(int(entry.name))
        return pids

    def group_rss_kib(self) -> int:
        total = 0
        for pid in self.group_pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                continue
        return total

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def request(self, method: str, path: str, body: str | None = None, timeout: float = 60) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()


def _env(port: int, db_path: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "IDENTITY_KEY_SECRET"}}
    alphabet = string.ascii_letters + string.digits
    env.update(
        DJANGO_SETTINGS_MODULE="identity.settings", DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        IDENTITY_TENANT_NAME=TENANT, IDENTITY_BASE_URL=f"http://127.0.0.1:{port}",
        ALLOWED_HOSTS="127.0.0.1", SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0",
        DATABASE_URL=f"sqlite:///{db_path}", LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            return sock.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def gunicorn_trustframe(directory: Path, *, workers: int = 2, threads: int = 8, env: dict[str, str] | None = None,
                        timeout: float = 60) -> Iterator[LoadServer]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db_path = directory / "trustframe.sqlite3"
    server_env = _env(port, db_path, env or {})
    manage(server_env, "migrate", "--no-input")
    # demotenant refuses outside DEBUG (it prints credentials); the server itself runs as in production.
    demo = json.loads(manage(server_env | {"DEBUG": "true"}, "demotenant", "--credentials-file",
                             str(directory / "demo.json"), "--json"))
    assert demo.get("created") is True, demo
    log_path = directory / "gunicorn.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [gunicorn_path(), "identity.wsgi", "-k", "gthread", "-w", str(workers), "--threads", str(threads),
             "-b", f"127.0.0.1:{port}", "--timeout", "60"],
            cwd=ROOT, env=server_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = LoadServer(port=port, pid=process.pid, log_path=log_path, demo=demo)
    try:
        wait_until_answering(process, lambda: _answers(port), timeout=timeout, log_tail=server.log_tail)
        yield server
    finally:
        stop_process_group(process)
