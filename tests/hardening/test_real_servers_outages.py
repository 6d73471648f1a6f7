"""Outages against real gunicorn instances (issue 4): PostgreSQL and Redis fail under the app, not the machine.

The app reaches PostgreSQL and Redis through TCP proxies (servers.py) that this test cuts and restores;
the shared services themselves are never stopped.

T61: a database failure in the middle of a refresh (at the read, at the one-statement rotation; on the
locked retry path at the lock, the successor's INSERT, the old token's UPDATE, COMMIT) answers 503 JSON and
consumes nothing. T60: PostgreSQL gone for ~3 s under load
→ every answer is 200 or 503 JSON (never 500, never HTML), /readyz is 503 meanwhile, and the app serves
200 again without a restart. T62/T63: Redis refused or hung → tokens are still issued, smart lockout is
still enforced (the database is the authority), latency stays bounded by the cache's socket timeouts;
Redis flushed → a lock holds.
"""

import statistics
import threading
import time

import pytest

from tests.hardening.servers import (
    REDIS_URL,
    Response,
    checksum,
    client_credentials_form,
    deployment,
    needs_postgres,
    needs_redis,
    redis_url_for,
    refresh_form,
    report_figures,
    ropc_form,
)

pytestmark = [needs_postgres, pytest.mark.postgres, pytest.mark.spec("SPEC.md", "§1")]

LOCKED = "AADB2C90114"
THRESHOLD = 10
# Quotas on, but far above this test's traffic: the rate-limit path runs and must survive Redis going away.
QUOTAS = {"RATE_LIMIT_CLIENT_PER_SECOND": "100000", "RATE_LIMIT_IP_PER_5_MINUTES": "10000000"}
# T61 retries a rotated refresh token after several cut connections: the grace window must outlast them.
GRACE = {"REFRESH_TOKEN_REUSE_GRACE_SECONDS": "120"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with deployment(tmp_path_factory.mktemp("real-outages"), "outage") as running:
        yield running


@pytest.fixture(scope="module")
def pair(world):
    return [world.start_instance(name, **QUOTAS, **GRACE) for name in ("A", "B")]


@pytest.fixture
def healthy(world, pair):
    """Every test starts and ends with both proxies open."""
    world.pg_proxy.disarm()
    world.pg_proxy.restore()
    if world.redis_proxy is not None:
        world.redis_proxy.restore()
    yield
    world.pg_proxy.disarm()
    world.pg_proxy.restore()
    if world.redis_proxy is not None:
        world.redis_proxy.restore()


def sign_in(instance, world, username=None, password=None) -> Response:
    demo = world.demo
    return instance.token(ropc_form(demo["native_client_id"], username or demo["username"],
                                    password or demo["password"]))


def error_code(response: Response) -> str:
    if not response.is_json:
        return ""
    return response.json().get("error_description", "").split(":", 1)[0]


def assert_unavailable(response: Response) -> None:
    """503, JSON, temporarily_unavailable, Retry-After: a client must assume its token still exists."""
    assert response.status == 503, response.describe()
    assert response.is_json, response.describe()
    assert response.json()["error"] == "temporarily_unavailable", response.describe()
    assert int(response.headers.get("retry-after", "0")) > 0, response.headers


# --- T61 -----------------------------------------------------------------------------------------------------

# Trip wires on the app's own SQL (psycopg sends it in the clear: sslmode=disable). A refresh reads the
# presented token without a lock, then inserts the successor and rotates the old token in one statement.
READ = b'WHERE "applications_refreshtoken"."token_checksum" = '
ROTATE = b'WITH "rotated" AS (UPDATE "applications_refreshtoken"'
# A rotated token presented again (the grace-window retry) is judged in a transaction that starts with
# `SELECT ... FOR UPDATE OF` on it, replaces the live successor, inserts a new one, re-points the old.
LOCK = b'FOR UPDATE OF "applications_refreshtoken"'
INSERT = b'INSERT INTO "applications_refreshtoken"'
POINT = b'"successor_id" = '
REFRESH_POINTS = [("read", (READ,)), ("rotate", (READ, ROTATE))]
RETRY_POINTS = [("lock", (LOCK,)), ("insert_successor", (LOCK, INSERT)), ("repoint_old", (LOCK, INSERT, POINT)),
                ("commit", (LOCK, POINT, b"COMMIT"))]


def _cut_at(world, instance, patterns, form) -> Response:
    world.pg_proxy.arm(*patterns)
    response = instance.token(form)
    tripped = world.pg_proxy.tripped.is_set()
    world.pg_proxy.disarm()
    world.pg_proxy.restore()
    assert tripped, f"{patterns}: the trip wire never fired ({response.describe()})"
    assert_unavailable(response)
    return response


def test_a_database_failure_in_the_middle_of_a_refresh_does_not_consume_the_token(world, pair, healthy):
    client_id = world.demo["native_client_id"]
    signed_in = sign_in(pair[0], world)
    assert signed_in.status == 200, signed_in.describe()
    refresh_token = signed_in.json()["refresh_token"]
    row = world.sql("SELECT id, token_family FROM applications_refreshtoken WHERE token_checksum = %s",
                    (checksum(refresh_token),))
    token_id, family = row[0]

    def state():
        return (world.sql("SELECT revoked, successor_id FROM applications_refreshtoken WHERE id = %s", (token_id,)),
                world.sql("SELECT count(*), count(revoked) FROM applications_refreshtoken WHERE token_family = %s",
                          (family,)))

    answers = {}
    for name, patterns in REFRESH_POINTS:
        answers[name] = _cut_at(world, pair[0], patterns, refresh_form(client_id, refresh_token)).status
        # Nothing of the refresh stuck: the token is not revoked, has no successor, the family has no new row.
        assert state() == ([(None, None)], [(1, 0)]), f"{name}: {state()}"
    # After the database is back, the same refresh token still works, on either instance, without a restart.
    retried = pair[1].token(refresh_form(client_id, refresh_token))
    assert retried.status == 200, retried.describe()
    rotated = state()
    assert rotated[0][0][0] is not None and rotated[0][0][1] is not None and rotated[1] == [(2, 1)], rotated

    # The client lost that answer and retries with the rotated token: the locked path, cut at each step.
    for name, patterns in RETRY_POINTS:
        answers[name] = _cut_at(world, pair[0], patterns, refresh_form(client_id, refresh_token)).status
        assert state() == rotated, f"{name}: half-written {state()}"
    regranted = pair[0].token(refresh_form(client_id, refresh_token))
    assert regranted.status == 200, regranted.describe()
    assert state()[1] == [(3, 2)]  # the lost successor revoked, a new one live
    report_figures("real-servers-refresh-db-failure", {
        "injection_points": len(REFRESH_POINTS) + len(RETRY_POINTS), "answers": answers,
        "token_still_works_after_restore": retried.status == 200, "retry_works_after_restore": regranted.status == 200,
    })


# --- T60 -----------------------------------------------------------------------------------------------------


def test_postgres_outage_under_load_answers_503_json_and_recovers_without_restart(world, pair, healthy):
    demo = world.demo
    forms = {"client_credentials": client_credentials_form(demo),
             "ropc": ropc_form(demo["native_client_id"], demo["username"], demo["password"])}
    records: list[tuple[float, float, str, Response | Exception]] = []
    ready: list[tuple[float, float, int]] = []  # started, answered, status
    stop = threading.Event()
    lock = threading.Lock()

    def load(worker: int) -> None:
        count = 0
        while not stop.is_set():
            kind = ("client_credentials", "ropc")[(worker + count) % 2]
            instance = pair[(worker + count) % 2]
            count += 1
            started = time.monotonic()
            try:
                result = instance.token(forms[kind], timeout=15)
            except Exception as exc:  # a dropped connection is a failure of its own kind
                result = exc
            with lock:
                records.append((started, time.monotonic(), kind, result))

    def probe() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                status = pair[0].get("/readyz", timeout=5).status
            except OSError:
                status = -1
            ready.append((started, time.monotonic(), status))
            time.sleep(0.1)

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)] + [threading.Thread(target=probe)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        cut_at = time.monotonic()
        world.pg_proxy.cut()
        time.sleep(3)
        world.pg_proxy.restore()
        restored_at = time.monotonic()
        deadline = restored_at + 15
        while time.monotonic() < deadline:
            with lock:
                recovered = {kind for s, _, kind, r in records
                             if s >= restored_at and isinstance(r, Response) and r.status == 200}
            if recovered == set(forms):
                break
            time.sleep(0.1)
        time.sleep(1)
    finally:
        stop.set()
        world.pg_proxy.restore()
        for thread in threads:
            thread.join(timeout=30)

    during = [(s, e, k, r) for s, e, k, r in records if e >= cut_at and s <= restored_at]
    responses = [r for *_, r in records if isinstance(r, Response)]
    first_200 = min((e for s, e, _, r in records if s >= restored_at and isinstance(r, Response)
                     and r.status == 200), default=None)
    statuses: dict[str, int] = {}
    for r in (r for *_, r in during):
        label = str(r.status) if isinstance(r, Response) else type(r).__name__
        statuses[label] = statuses.get(label, 0) + 1
    # Probes sent and answered within the outage: one sent before the cut may still answer 200 after it.
    ready_during = [s for sent, answered, s in ready if cut_at + 0.3 <= sent and answered <= restored_at]
    ready_after = [s for sent, _, s in ready if first_200 is not None and sent >= first_200]
    report_figures("real-servers-postgres-outage", {
        "load_threads": 4, "instances": 2, "outage_seconds": round(restored_at - cut_at, 2),
        "requests_total": len(records), "requests_during_outage": len(during),
        "statuses_during_outage": statuses,
        "responses_500": sum(1 for r in responses if r.status == 500),
        "responses_5xx_other_than_503": sum(1 for r in responses if r.status >= 500 and r.status != 503),
        "non_json_error_responses": sum(1 for r in responses if r.status != 200 and not r.is_json),
        "connection_errors": sum(1 for *_, r in records if not isinstance(r, Response)),
        "seconds_restore_to_first_200": None if first_200 is None else round(first_200 - restored_at, 3),
        "readyz_during_outage": sorted(set(ready_during)), "readyz_after_recovery": sorted(set(ready_after)),
    })
    assert during, "no request ran during the outage"
    bad = [(k, r if not isinstance(r, Response) else r.describe()) for _, _, k, r in records
           if not isinstance(r, Response) or (r.status != 200 and not (r.status == 503 and r.is_json))]
    assert not bad, f"{len(bad)} answers were neither 200 nor 503 JSON, e.g. {bad[:3]}"
    for response in responses:
        if response.status == 503:
            assert_unavailable(response)
    assert first_200 is not None and first_200 - restored_at < 10, "no 200 within 10 s of the database's return"
    assert ready_during and set(ready_during) == {503}, ready_during
    assert pair[0].get("/readyz").status == 200 and pair[1].get("/readyz").status == 200


# --- T62 / T63 -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outage_users(world):
    users = {}
    for name in ("outage-ivy", "outage-jay", "outage-kim"):
        password = f"{name.title()}-Pass-2048!"
        world.manage_json("createuser", name, "--password", password)
        users[name] = password
    return users


def lock_out(pair, world, username: str, label: str) -> list[Response]:
    """THRESHOLD distinct wrong passwords, alternating instances."""
    return [sign_in(pair[i % 2], world, username, f"wrong-{label}-{i}-password") for i in range(THRESHOLD)]


def latency_figures(samples: list[float]) -> dict:
    return {"p50_ms": round(statistics.median(samples) * 1000, 1), "max_ms": round(max(samples) * 1000, 1),
            "samples": len(samples)}


@needs_redis
def test_redis_outage_keeps_serving_and_keeps_lockout(world, pair, outage_users, healthy):
    import redis

    demo = world.demo
    proxy = world.redis_proxy
    assert proxy is not None
    ivy, jay, kim = "outage-ivy", "outage-jay", "outage-kim"
    latencies: dict[str, list[float]] = {"redis_up": [], "redis_refused": [], "redis_hung": []}

    def serve(phase: str) -> None:
        """Password and client-credentials tokens are issued on both instances."""
        for instance in pair:
            for response in (sign_in(instance, world), instance.token(client_credentials_form(demo))):
                latencies[phase].append(response.elapsed)
                assert response.status == 200, f"{phase} on {instance.name}: {response.describe()}"

    mark = world.log_mark()
    serve("redis_up")

    # Redis refuses connections: tokens still flow, and ten distinct wrong passwords still lock the name.
    proxy.cut()
    serve("redis_refused")
    failures = lock_out(pair, world, ivy, "refused")
    latencies["redis_refused"] += [r.elapsed for r in failures]
    assert all(r.status == 400 and error_code(r) != LOCKED for r in failures[:-1]), [r.describe() for r in failures]
    for instance in pair:
        locked = sign_in(instance, world, ivy, outage_users[ivy])
        latencies["redis_refused"].append(locked.elapsed)
        assert locked.status == 400 and error_code(locked) == LOCKED, locked.describe()

    # Redis hangs (accepts, never answers): the same, within the cache's socket timeouts.
    proxy.stall()
    serve("redis_hung")
    failures = lock_out(pair, world, jay, "hung")
    latencies["redis_hung"] += [r.elapsed for r in failures]
    for instance in pair:
        for name in (ivy, jay):
            locked = sign_in(instance, world, name, outage_users[name])
            latencies["redis_hung"].append(locked.elapsed)
            assert locked.status == 400 and error_code(locked) == LOCKED, f"{name}: {locked.describe()}"

    # Redis back: still serving, locks still hold.
    proxy.restore()
    serve("redis_up")
    for instance in pair:
        for name in (ivy, jay):
            locked = sign_in(instance, world, name, outage_users[name])
            assert locked.status == 400 and error_code(locked) == LOCKED, f"{name}: {locked.describe()}"

    # T63: a lock taken while Redis is up survives FLUSHDB (the database row is the authority).
    lock_out(pair, world, kim, "flush")
    client = redis.Redis.from_url(redis_url_for(REDIS_URL), socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()
    for instance in pair:
        locked = sign_in(instance, world, kim, outage_users[kim])
        assert locked.status == 400 and error_code(locked) == LOCKED, locked.describe()

    report_figures("real-servers-redis-outage", {
        "lockout_attempts_before_lock": THRESHOLD,
        "locked_with_redis_refused": True, "locked_with_redis_hung": True, "locked_after_flushdb": True,
        **{f"{phase}_{key}": value for phase, samples in latencies.items()
           for key, value in latency_figures(samples).items()},
    })
    logs = world.logs_since(mark)
    assert "Traceback" not in logs, logs[-4000:]
    # Bounded by the 0.25 s socket timeouts (a few cache calls per request), far from a client's timeout.
    assert max(latencies["redis_hung"]) < 2.5, latency_figures(latencies["redis_hung"])
    assert max(latencies["redis_refused"]) < 2.5, latency_figures(latencies["redis_refused"])
