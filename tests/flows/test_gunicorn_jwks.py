"""A real server: gunicorn with two workers serves one JWKS (SPEC §3 "keys are not per process").

Each test starts gunicorn in a subprocess against its own SQLite file (even when the suite runs on
PostgreSQL), fed through `manage.py`, and talks to it over real sockets.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.flows.processes import free_port, gunicorn_path, stop_process_group

pytestmark = pytest.mark.spec("SPEC.md", "§3")

ROOT = Path(__file__).resolve().parents[2]
TENANT = "contoso.onmicrosoft.com"
JWKS_PATH = f"/{TENANT}/B2C_1_ROPC_Auth/discovery/v2.0/keys"
CREATE_POLICY = """
from policies.services import policy_create_or_update
policy_create_or_update(actor="test_gunicorn_jwks", policy_id="B2C_1_ROPC_Auth")
"""
ROTATE_TWICE_AND_PRINT_JWKS = """
import json
from identity.keys.selectors import jwks
from identity.keys.services import signing_key_rotate
signing_key_rotate(actor="test_gunicorn_jwks")
signing_key_rotate(actor="test_gunicorn_jwks")
print(json.dumps(jwks()))
"""
COUNT_KEYS = "from identity.keys.models import SigningKey; print(SigningKey.objects.count())"


def server_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(
        DATABASE_URL=database_url, DEBUG="false", SECRET_KEY="gunicorn-test-secret-key-0123456789-abcdefghijklmnop",
        IDENTITY_TENANT_NAME=TENANT, IDENTITY_BASE_URL="https://login.contoso.test", ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false", DJANGO_SETTINGS_MODULE="identity.settings", LOG_LEVEL="WARNING",
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    """Run manage.py; returns the last line of its output (`shell` first prints what it auto-imported)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"manage.py {' '.join(args[:1])} failed:\n{result.stderr[-3000:]}"
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@contextmanager
def gunicorn(env: dict[str, str], tmp_path: Path, workers: int):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    access_log = tmp_path / "access.log"
    with open(log, "wb") as log_file:
        process = subprocess.Popen(
            [gunicorn_path(), "identity.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--access-logfile", str(access_log), "--access-logformat", "%(p)s %(m)s %(U)s %(s)s"],
            cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, f"gunicorn exited early:\n{log.read_text()[-3000:]}"
            try:
                if get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"gunicorn did not answer within 30 s:\n{log.read_text()[-3000:]}"
            time.sleep(0.1)
        yield port, access_log
    finally:
        stop_process_group(process)


def worker_pids(access_log: Path, path: str) -> set[str]:
    # Gunicorn writes its access log line after the response: give the last one a moment.
    time.sleep(0.3)
    return {m[1] for m in re.finditer(r"^<(\d+)> GET (\S+) 200$", access_log.read_text(), re.M) if m[2] == path}


def test_two_gunicorn_workers_serve_the_same_jwks(tmp_path):
    env = server_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage(env, "migrate", "--no-input")
    manage(env, "shell", "-c", CREATE_POLICY)
    expected = json.loads(manage(env, "shell", "-c", ROTATE_TWICE_AND_PRINT_JWKS))
    assert len(expected["keys"]) == 2  # the active key and the one it replaced

    with gunicorn(env, tmp_path, workers=2) as (port, access_log):
        bodies = [get(port, JWKS_PATH)[2] for _ in range(40)]
        # Pin one worker on a half-sent request: every request meanwhile is served by the other one,
        # and then the pinned one answers, so both workers have certainly served the JWKS.
        pinned = socket.create_connection(("127.0.0.1", port), timeout=10)
        try:
            pinned.sendall(f"GET {JWKS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
            time.sleep(0.3)
            bodies += [get(port, JWKS_PATH)[2] for _ in range(10)]
            pinned.sendall(b"Connection: close\r\n\r\n")
            raw = b""
            while chunk := pinned.recv(65536):
                raw += chunk
        finally:
            pinned.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        bodies.append(body)
        pids = worker_pids(access_log, JWKS_PATH)

    assert len(set(bodies)) == 1, "workers served different key sets"
    assert json.loads(bodies[0]) == expected, "the JWKS served is not the one in the database"
    assert len(pids) == 2, f"expected both workers to answer, saw pids {pids}"


def test_concurrent_first_requests_on_a_fresh_server_agree_on_one_key(tmp_path):
    # No key yet: the first JWKS requests, arriving together at both workers, race to create it.
    env = server_env(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    manage(env, "migrate", "--no-input")
    manage(env, "shell", "-c", CREATE_POLICY)
    with gunicorn(env, tmp_path, workers=2) as (port, _):
        start = threading.Barrier(8)
        results: list[tuple[int, bytes]] = []

        def fetch():
            start.wait()
            status, _, body = get(port, JWKS_PATH)
            results.append((status, body))

        threads = [threading.Thread(target=fetch) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert [status for status, _ in results] == [200] * 8
    assert len({body for _, body in results}) == 1
    assert len(json.loads(results[0][1])["keys"]) == 1
    assert manage(env, "shell", "-c", COUNT_KEYS) == "1"


def test_readyz_is_503_json_when_the_database_is_down_and_errors_stay_json(tmp_path):
    # Nothing listens on this port: PostgreSQL is "down" for this server.
    env = server_env(f"postgres://postgres@127.0.0.1:{free_port()}/trustframe")
    with gunicorn(env, tmp_path, workers=1) as (port, _):
        status, headers, body = get(port, "/readyz")
        assert status == 503
        assert headers["Content-Type"] == "application/json"
        assert int(headers["Retry-After"]) > 0
        assert json.loads(body)["status"] == "unavailable"
        # A request that needs the database is told to come back (503 JSON, Retry-After), never a 500.
        status, headers, body = get(port, f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration")
        assert status == 503
        assert headers["Content-Type"] == "application/json" and int(headers["Retry-After"]) > 0
        assert json.loads(body)["error"] == "temporarily_unavailable"
        assert get(port, "/healthz")[0] == 200


def test_readyz_is_503_within_the_connect_timeout_when_the_database_never_answers(tmp_path):
    # Something accepts the connection and never speaks: a database host behind a dropping firewall, say.
    silent = socket.create_server(("127.0.0.1", 0))
    # No connect_timeout in the URL: the settings' default (5 s) applies.
    env = server_env(f"postgres://postgres@127.0.0.1:{silent.getsockname()[1]}/trustframe")
    try:
        with gunicorn(env, tmp_path, workers=1) as (port, _):
            started = time.monotonic()
            status, _, body = get(port, "/readyz")
            assert status == 503 and json.loads(body)["status"] == "unavailable"
            assert time.monotonic() - started < 8
    finally:
        silent.close()
