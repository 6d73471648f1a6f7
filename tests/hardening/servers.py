"""Real-server infrastructure for the hardening tests: gunicorn instances on a fresh PostgreSQL database,
Redis, and TCP proxies in front of both that a test can cut and restore.

    with deployment(tmp_dir, "races") as world:
        a = world.start_instance("A", REFRESH_TOKEN_REUSE_GRACE_SECONDS="0")
        a.token({...}).status, world.sql("SELECT ..."), world.pg_proxy.cut(), world.pg_proxy.restore()

The servers are separate processes, so they cannot use pytest-django's test database: each deployment
creates its own database (prefix `tf_hard2_`) on the server DATABASE_URL names, migrates it and gives it
the demo tenant through `manage.py`, and drops it at the end. The app's DATABASE_URL and REDIS_URL point
at the proxies, never straight at the shared services, so an outage is simulated without stopping the
machine's PostgreSQL or Redis. Redis uses database number 12 only (flushed at start and end).

Tests that need these services are skipped with a visible reason when DATABASE_URL is not PostgreSQL
(the SQLite run) or REDIS_URL is unset.
"""

import http.client
import json
import os
import secrets
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest

from tests.flows.processes import free_port, gunicorn_path, stop_process_group

ROOT = Path(__file__).resolve().parents[2]
TENANT = "contoso.onmicrosoft.com"
POLICY = "B2C_1_ROPC_Auth"
BASE_URL = "https://login.contoso.test"
DB_PREFIX = "tf_hard2"
REDIS_DB = 12
FIGURES_DIR = ROOT / "var" / "hardening-figures"
POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "psql"}
TOKEN_PATH = f"/{TENANT}/{POLICY}/oauth2/v2.0/token"
REVOKE_PATH = f"/{TENANT}/{POLICY}/oauth2/v2.0/revoke"
JWKS_PATH = f"/{TENANT}/{POLICY}/discovery/v2.0/keys"


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if urlsplit(url).scheme in POSTGRES_SCHEMES else None


def _redis_url() -> str | None:
    return os.environ.get("REDIS_URL") or None


POSTGRES_URL = _postgres_url()
REDIS_URL = _redis_url()

needs_postgres = pytest.mark.skipif(
    POSTGRES_URL is None,
    reason="needs PostgreSQL: set DATABASE_URL=postgres://… (real gunicorn servers on a fresh database)",
)
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis: set REDIS_URL=redis://…")


# --- figures -------------------------------------------------------------------------------------------------


def report_figures(name: str, figures: dict) -> None:
    """Print `FIGURE: name.key=value` lines (visible with -s) and write var/hardening-figures/<name>.json."""
    for key, value in figures.items():
        print(f"FIGURE: {name}.{key}={value}")
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    (FIGURES_DIR / f"{name}.json").write_text(json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n")


# --- PostgreSQL ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PgServer:
    """The PostgreSQL server DATABASE_URL names, to build URLs for other databases on it."""

    user: str
    password: str
    host: str
    port: int

    @classmethod
    def from_url(cls, url: str) -> "PgServer":
        parts = urlsplit(url)
        return cls(user=parts.username or "postgres", password=parts.password or "",
                   host=parts.hostname or "127.0.0.1", port=parts.port or 5432)

    def url(self, dbname: str, *, host: str | None = None, port: int | None = None) -> str:
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        # sslmode=disable: the proxies' trip wires read the protocol in the clear.
        return urlunsplit(("postgres", f"{auth}@{host or self.host}:{port or self.port}", f"/{dbname}",
                           "sslmode=disable", ""))


def _admin(server: PgServer):
    import psycopg

    return psycopg.connect(server.url("postgres"), autocommit=True, connect_timeout=10)


@contextmanager
def fresh_database(server: PgServer, tag: str) -> Iterator[str]:
    """CREATE DATABASE tf_hard2_<tag>_<random>; DROP … WITH (FORCE) afterwards."""
    from psycopg import sql

    name = f"{DB_PREFIX}_{tag}_{secrets.token_hex(3)}".lower()
    with _admin(server) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _admin(server) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- a TCP proxy that can be cut -----------------------------------------------------------------------------


class TcpProxy:
    """127.0.0.1:<random> → upstream, in threads of this process.

    cut(): close every connection and refuse new ones (accepted, then reset) until restore().
    stall(): keep connections open but forward nothing, and accept new ones without answering (a hung
    server) until restore().
    arm(*patterns): a trip wire on the client→server stream of each connection: when the patterns have
    been seen in order on one connection, the chunk holding the last one is NOT forwarded and the proxy
    cuts (as cut()); `tripped` is set.
    """

    def __init__(self, upstream: tuple[str, int], name: str) -> None:
        self.upstream = upstream
        self.name = name
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._held: list[socket.socket] = []
        self._mode = "open"  # open | cut | stall
        self._closed = False
        self._patterns: tuple[bytes, ...] = ()
        self._progress: dict[int, int] = {}
        self.tripped = threading.Event()
        self.accepted = 0
        self.refused = 0
        self.recording: list[bytes] | None = None
        threading.Thread(target=self._accept_loop, name=f"proxy-{name}", daemon=True).start()

    # control

    def cut(self) -> None:
        with self._lock:
            self._mode = "cut"
            doomed = [*self._sockets, *self._held]
            self._sockets.clear()
            self._held.clear()
        for sock in doomed:
            _kill(sock)

    def stall(self) -> None:
        with self._lock:
            self._mode = "stall"

    def restore(self) -> None:
        with self._lock:
            self._mode = "open"
            held, self._held = self._held, []
        for sock in held:
            _kill(sock)

    def arm(self, *patterns: bytes) -> None:
        with self._lock:
            self.tripped.clear()
            self._progress.clear()
            self._patterns = patterns

    def disarm(self) -> None:
        with self._lock:
            self._patterns = ()

    def close(self) -> None:
        self._closed = True
        self.cut()
        with suppress(OSError):
            self._listener.close()

    @property
    def mode(self) -> str:
        return self._mode

    # machinery

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                mode = self._mode
                if mode == "stall":
                    self._held.append(client)
                    continue
            if mode == "cut":
                self.refused += 1
                _kill(client)
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _kill(client)
                continue
            with self._lock:
                if self._mode != "open":
                    _kill(client)
                    _kill(server)
                    continue
                self.accepted += 1
                self._sockets.update((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, outbound: bool) -> None:
        key = id(source)
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self._mode == "stall" and not self._closed:
                    time.sleep(0.01)
                if self._mode != "open":
                    break
                if outbound:
                    if self.recording is not None:
                        self.recording.append(data)
                    if self._patterns and self._trips(key, data):
                        self.tripped.set()
                        self.cut()
                        break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
                self._progress.pop(key, None)
            _kill(source)
            _kill(sink)

    def _trips(self, key: int, data: bytes) -> bool:
        with self._lock:
            patterns = self._patterns
            if not patterns:
                return False
            index = self._progress.get(key, 0)
            position = 0
            while index < len(patterns):
                found = data.find(patterns[index], position)
                if found < 0:
                    break
                position = found + len(patterns[index])
                index += 1
            if index == len(patterns):
                self._patterns = ()
                return True
            self._progress[key] = index
            return False


def _kill(sock: socket.socket) -> None:
    with suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with suppress(OSError):
        sock.close()


# --- HTTP ----------------------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    elapsed: float

    @property
    def is_json(self) -> bool:
        if not self.headers.get("content-type", "").startswith("application/json"):
            return False
        try:
            return isinstance(json.loads(self.body), dict)
        except ValueError:
            return False

    def json(self) -> dict:
        return json.loads(self.body)

    def describe(self) -> str:
        return f"{self.status} {self.headers.get('content-type', '')} {self.body[:300]!r}"


def http_request(port: int, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
                 timeout: float = 20) -> Response:
    """One request on a new connection to 127.0.0.1:port."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        conn.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
        response = conn.getresponse()
        payload = response.read()
        return Response(response.status, {k.lower(): v for k, v in response.getheaders()}, payload,
                        time.monotonic() - started)
    finally:
        conn.close()


def fire_together(requests: list[tuple[int, str, dict, float]], *, timeout: float = 30) -> list[Response | Exception]:
    """POST each (port, path, form, delay_seconds) at (nearly) the same moment: every connection is open
    before a barrier releases them all, then each waits its delay and sends. Results in order."""
    barrier = threading.Barrier(len(requests))
    results: list[Response | Exception | None] = [None] * len(requests)

    def run(index: int, port: int, path: str, form: dict, delay: float) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        try:
            conn.connect()
            body = urlencode(form).encode()
            barrier.wait(timeout=timeout)
            if delay > 0:
                time.sleep(delay)
            started = time.monotonic()
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded", "Connection": "close"})
            response = conn.getresponse()
            payload = response.read()
            results[index] = Response(response.status, {k.lower(): v for k, v in response.getheaders()}, payload,
                                      time.monotonic() - started)
        except Exception as exc:
            results[index] = exc
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i, *spec)) for i, spec in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout + 5)
    return [r if r is not None else TimeoutError("no answer") for r in results]


# --- gunicorn ------------------------------------------------------------------------------------------------


@dataclass
class Instance:
    """One gunicorn (gthread) serving Trustframe on 127.0.0.1:port, in its own process group."""

    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def request(self, method: str, path: str, **kwargs) -> Response:
        return http_request(self.port, method, path, **kwargs)

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, data: dict, *, headers: dict | None = None, timeout: float = 20) -> Response:
        return self.request("POST", path, body=urlencode(data).encode(), timeout=timeout,
                            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})})

    def token(self, data: dict, **kwargs) -> Response:
        return self.post_form(TOKEN_PATH, data, **kwargs)

    def revoke(self, data: dict, **kwargs) -> Response:
        return self.post_form(REVOKE_PATH, data, **kwargs)

    def jwks(self) -> dict:
        response = self.get(JWKS_PATH)
        assert response.status == 200, response.describe()
        return response.json()

    def openid_configuration(self) -> dict:
        response = self.get(f"/{TENANT}/{POLICY}/v2.0/.well-known/openid-configuration")
        assert response.status == 200, response.describe()
        return response.json()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        stop_process_group(self.process)


def _base_env() -> dict[str, str]:
    drop = {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "IDENTITY_KEY_SECRET", "DEBUG"}
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith(("RATE_LIMIT_", "LOCKOUT_", "PASSWORD_HASH_", "REFRESH_TOKEN_"))}


# --- a deployment: fresh database, proxies, demo tenant, instances -------------------------------------------


@dataclass
class Deployment:
    workdir: Path
    database: str
    pg: PgServer
    pg_proxy: TcpProxy
    redis_proxy: TcpProxy | None
    secret_key: str
    demo: dict = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)

    @property
    def direct_database_url(self) -> str:
        return self.pg.url(self.database)

    @property
    def proxied_database_url(self) -> str:
        return self.pg.url(self.database, host="127.0.0.1", port=self.pg_proxy.port)

    @property
    def proxied_redis_url(self) -> str | None:
        return None if self.redis_proxy is None else f"redis://127.0.0.1:{self.redis_proxy.port}/{REDIS_DB}"

    def env(self, *, direct: bool, **overrides: str) -> dict[str, str]:
        env = _base_env()
        env.update(
            DJANGO_SETTINGS_MODULE="identity.settings", DEBUG="false", SECRET_KEY=self.secret_key,
            IDENTITY_TENANT_NAME=TENANT, IDENTITY_BASE_URL=BASE_URL, ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="false", LOG_LEVEL="WARNING",
            RATE_LIMIT_CLIENT_PER_SECOND="0", RATE_LIMIT_IP_PER_5_MINUTES="0",
            DATABASE_URL=self.direct_database_url if direct else self.proxied_database_url,
        )
        redis = redis_url_for(REDIS_URL) if direct else self.proxied_redis_url
        if redis:
            env["REDIS_URL"] = redis
        env.update(overrides)
        return env

    def manage(self, *args: str, stdin: str | None = None, **overrides: str) -> str:
        """manage.py against the database directly (not through the proxy); returns stdout."""
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env(direct=True, **overrides),
                                capture_output=True, text=True, timeout=120, input=stdin)
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {args[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
        return result.stdout

    def manage_json(self, *args: str, stdin: str | None = None, **overrides: str) -> dict:
        return json.loads(self.manage(*args, "--json", stdin=stdin, **overrides))

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.direct_database_url, autocommit=True, connect_timeout=10) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def start_instance(self, name: str, *, workers: int = 2, threads: int = 4, timeout: float = 40,
                       **overrides: str) -> Instance:
        port = free_port()
        log_path = self.workdir / f"gunicorn-{name}.log"
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [gunicorn_path(), "identity.wsgi", "-k", "gthread", "-w", str(workers), "--threads", str(threads),
                 "-b", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5"],
                cwd=ROOT, env=self.env(direct=False, **overrides), stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        instance = Instance(name=name, port=port, process=process, log_path=log_path)
        self.instances.append(instance)
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn {name} exited early ({process.returncode}):\n"
                                   f"{instance.log_text()[-3000:]}")
            with suppress(OSError):
                if instance.get("/readyz", timeout=5).status == 200:
                    return instance
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {name} did not become ready in {timeout} s:\n"
                                   f"{instance.log_text()[-3000:]}")
            time.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(instance.log_text() for instance in self.instances)

    def log_mark(self) -> dict[str, int]:
        """Where each instance's log ends now; logs_since(mark) returns what was written after."""
        return {i.name: i.log_path.stat().st_size if i.log_path.exists() else 0 for i in self.instances}

    def logs_since(self, mark: dict[str, int]) -> str:
        parts = []
        for instance in self.instances:
            if instance.log_path.exists():
                with open(instance.log_path, "rb") as handle:
                    handle.seek(mark.get(instance.name, 0))
                    parts.append(handle.read().decode(errors="replace"))
        return "\n".join(parts)


def redis_url_for(url: str | None) -> str | None:
    """REDIS_URL with the database number replaced by ours (12)."""
    if not url:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", parts.query, ""))


def _flush_redis() -> None:
    if not REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(redis_url_for(REDIS_URL), socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


@contextmanager
def deployment(workdir: Path, tag: str) -> Iterator[Deployment]:
    """A fresh database with the demo tenant, a PostgreSQL proxy and (if REDIS_URL) a Redis proxy.

    Instances started with world.start_instance() are stopped (process group) at the end; the database
    is dropped and Redis database 12 flushed.
    """
    assert POSTGRES_URL is not None, "deployment() needs DATABASE_URL=postgres://…"
    pg = PgServer.from_url(POSTGRES_URL)
    workdir.mkdir(parents=True, exist_ok=True)
    alphabet = string.ascii_letters + string.digits
    _flush_redis()
    with fresh_database(pg, tag) as name:
        pg_proxy = TcpProxy((pg.host, pg.port), f"pg-{tag}")
        redis_proxy = None
        if REDIS_URL:
            parts = urlsplit(REDIS_URL)
            redis_proxy = TcpProxy((parts.hostname or "127.0.0.1", parts.port or 6379), f"redis-{tag}")
        world = Deployment(workdir=workdir, database=name, pg=pg, pg_proxy=pg_proxy, redis_proxy=redis_proxy,
                           secret_key="".join(secrets.choice(alphabet) for _ in range(60)))
        try:
            world.manage("migrate", "--no-input")
            # demotenant refuses outside DEBUG (it prints credentials); the servers run as in production.
            world.demo = world.manage_json("demotenant", "--credentials-file", str(workdir / "demo.json"),
                                           DEBUG="true")
            assert world.demo.get("created") is True, world.demo
            yield world
        finally:
            for instance in world.instances:
                instance.stop()
            pg_proxy.close()
            if redis_proxy is not None:
                redis_proxy.close()
            _flush_redis()


# --- token-request bodies ------------------------------------------------------------------------------------


def ropc_form(client_id: str, username: str, password: str, **extra: str) -> dict:
    return {"grant_type": "password", "client_id": client_id, "username": username, "password": password,
            "scope": f"openid {client_id} offline_access", "response_type": "token id_token", **extra}


def refresh_form(client_id: str, refresh_token: str, **extra: str) -> dict:
    return {"grant_type": "refresh_token", "client_id": client_id, "resource": client_id,
            "response_type": "id_token", "refresh_token": refresh_token, **extra}


def client_credentials_form(demo: dict) -> dict:
    return {"grant_type": "client_credentials", "client_id": demo["daemon_client_id"],
            "client_secret": demo["daemon_client_secret"], "scope": f"{demo['api_app_id_uri']}/.default"}


def checksum(value: str) -> str:
    import hashlib

    return hashlib.sha256(value.encode()).hexdigest()
