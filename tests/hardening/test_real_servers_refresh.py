"""Refresh-token races on PostgreSQL across two real gunicorn instances (issue 4; SPEC §4.2).

T52/T53: N parallel redemptions of one refresh token, split over two instances sharing one database
and Redis, produce exactly one successor: with REFRESH_TOKEN_REUSE_GRACE_SECONDS=0 one request wins and
the others are refused `invalid_grant` (reuse detection then revokes the family); with the default
grace window (T54) every request may succeed but one token only stays live. Never a 5xx, never an
IntegrityError. T55: a refresh racing an RFC 7009 revocation of the same token leaves nothing active.

Every instance is a separate process on a fresh database (servers.py); skipped on the SQLite run.
"""

import random
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.hardening.servers import (
    REVOKE_PATH,
    TOKEN_PATH,
    Response,
    checksum,
    deployment,
    fire_together,
    needs_postgres,
    refresh_form,
    report_figures,
    ropc_form,
)

pytestmark = [needs_postgres, pytest.mark.postgres, pytest.mark.spec("SPEC.md", "§4.2")]

ROUNDS = 20
PARALLEL = 8
GRACE_ROUNDS = 10
REVOCATION_TRIALS = 40


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with deployment(tmp_path_factory.mktemp("real-refresh"), "races") as running:
        yield running


@pytest.fixture(scope="module")
def strict_pair(world):
    """Two instances with no grace window: a rotated token presented again is reuse, at once."""
    return [world.start_instance(name, REFRESH_TOKEN_REUSE_GRACE_SECONDS="0") for name in ("strict-A", "strict-B")]


@pytest.fixture(scope="module")
def grace_pair(world):
    """Two instances with the default grace window (10 s)."""
    return [world.start_instance(name) for name in ("grace-A", "grace-B")]


@pytest.fixture(scope="module")
def confidential_client(world):
    """A confidential app with ROPC and a secret, created with manage.py: it may use RFC 7009 revocation."""
    app = world.manage_json("registerapp", "Race confidential app", "--ropc")
    secret = world.manage_json("addsecret", app["client_id"])
    return {"client_id": app["client_id"], "client_secret": secret["secret"]}


@dataclass
class Round:
    responses: list
    live: int
    live_checksums: list[str]
    successors: int

    @property
    def statuses(self) -> list:
        return [r.status if isinstance(r, Response) else type(r).__name__ for r in self.responses]

    @property
    def winners(self) -> list[Response]:
        return [r for r in self.responses if isinstance(r, Response) and r.status == 200]


def family_of(world, refresh_token: str):
    rows = world.sql("SELECT token_family FROM applications_refreshtoken WHERE token_checksum = %s",
                     (checksum(refresh_token),))
    assert len(rows) == 1, rows
    return rows[0][0]


def live_tokens(world, family) -> list[str]:
    return [row[0] for row in world.sql(
        "SELECT token_checksum FROM applications_refreshtoken WHERE token_family = %s AND revoked IS NULL",
        (family,))]


def sign_in(instance, world, **extra) -> dict:
    demo = world.demo
    response = instance.token(ropc_form(demo["native_client_id"], demo["username"], demo["password"], **extra))
    assert response.status == 200, response.describe()
    return response.json()


def race_rounds(world, pair, rounds: int) -> list[Round]:
    client_id = world.demo["native_client_id"]
    results = []
    for number in range(rounds):
        refresh_token = sign_in(pair[number % 2], world)["refresh_token"]
        family = family_of(world, refresh_token)
        form = refresh_form(client_id, refresh_token)
        responses = fire_together([(pair[i % 2].port, TOKEN_PATH, form, 0.0) for i in range(PARALLEL)])
        live = live_tokens(world, family)
        rows = world.sql("SELECT count(*) FROM applications_refreshtoken WHERE token_family = %s", (family,))
        results.append(Round(responses, len(live), live, successors=rows[0][0] - 1))
    return results


def assert_clean_refusals(rounds: list[Round]) -> None:
    """Every answer is a 200 or a JSON 400 invalid_grant: no 5xx, no dropped connection."""
    for number, race in enumerate(rounds):
        for response in race.responses:
            assert isinstance(response, Response), f"round {number}: {response!r}"
            assert response.status < 500, f"round {number}: {response.describe()}"
            if response.status != 200:
                assert response.status == 400 and response.is_json, f"round {number}: {response.describe()}"
                assert response.json()["error"] == "invalid_grant", f"round {number}: {response.describe()}"


def assert_logs_clean(world, mark: dict) -> None:
    logs = world.logs_since(mark)
    assert "IntegrityError" not in logs, logs[-4000:]
    assert "Traceback" not in logs, logs[-4000:]


def test_parallel_refreshes_without_grace_have_exactly_one_winner(world, strict_pair):
    mark = world.log_mark()
    rounds = race_rounds(world, strict_pair, ROUNDS)
    winners = Counter(len(r.winners) for r in rounds)
    live = Counter(r.live for r in rounds)
    report_figures("real-servers-refresh-race-grace0", {
        "races_run": len(rounds), "parallel_per_race": PARALLEL, "instances": 2,
        "races_exactly_one_winner": winners.get(1, 0),
        "races_exactly_one_successor": sum(1 for r in rounds if r.successors == 1),
        "winners_histogram": dict(sorted(winners.items())),
        "successors_histogram": dict(sorted(Counter(r.successors for r in rounds).items())),
        "races_at_most_one_live_token": sum(1 for r in rounds if r.live <= 1),
        "live_tokens_histogram": dict(sorted(live.items())),
        "responses_5xx": sum(1 for r in rounds for s in r.statuses if isinstance(s, int) and s >= 500),
    })
    assert_clean_refusals(rounds)
    assert_logs_clean(world, mark)
    # What the code promises even when several win: never more than one live token in the family.
    assert all(r.live <= 1 for r in rounds), [(r.statuses, r.live) for r in rounds]
    # With no grace window one redemption wins; the others are reuse and revoke the family.
    several = [(number, len(r.winners), r.successors, r.statuses) for number, r in enumerate(rounds)
               if len(r.winners) != 1 or r.successors != 1]
    assert not several, (f"{len(several)} of {len(rounds)} races did not have exactly one winner and one successor "
                         f"(round, winners, successors, statuses): {several}")
    assert all(r.live == 0 for r in rounds), [(r.statuses, r.live) for r in rounds]


def test_parallel_refreshes_within_the_grace_window_leave_one_live_token(world, grace_pair):
    mark = world.log_mark()
    rounds = race_rounds(world, grace_pair, GRACE_ROUNDS)
    client_id = world.demo["native_client_id"]
    still_working = 0
    for number, race in enumerate(rounds):
        returned = {checksum(r.json()["refresh_token"]): r.json()["refresh_token"] for r in race.winners}
        assert race.live == 1, f"round {number}: {race.statuses}, {race.live} live tokens"
        # The live token is one the clients received (not a successor nobody got), and it works.
        assert race.live_checksums[0] in returned, f"round {number}: the live token was never returned"
        follow_up = grace_pair[number % 2].token(refresh_form(client_id, returned[race.live_checksums[0]]))
        assert follow_up.status == 200, follow_up.describe()
        still_working += 1
    winners = Counter(len(r.winners) for r in rounds)
    report_figures("real-servers-refresh-race-grace10", {
        "races_run": len(rounds), "parallel_per_race": PARALLEL, "instances": 2,
        "winners_histogram": dict(sorted(winners.items())),
        "races_exactly_one_live_token": sum(1 for r in rounds if r.live == 1),
        "live_token_refreshes_afterwards": still_working,
        "responses_5xx": sum(1 for r in rounds for s in r.statuses if isinstance(s, int) and s >= 500),
    })
    assert_clean_refusals(rounds)
    assert all(len(r.winners) >= 1 for r in rounds), [r.statuses for r in rounds]
    assert_logs_clean(world, mark)


def test_refresh_racing_revocation_leaves_no_active_token(world, strict_pair, confidential_client):
    """RFC 7009 revocation by the confidential client it was issued to, at the same moment as a refresh
    on the other instance (revocation delayed by 0-12 ms to sweep the refresh's read and rotation)."""
    demo, client = world.demo, confidential_client
    mark = world.log_mark()
    rng = random.Random(4)
    trials = []
    for number in range(REVOCATION_TRIALS):
        signed_in = strict_pair[number % 2].token(ropc_form(
            client["client_id"], demo["username"], demo["password"], client_secret=client["client_secret"]))
        assert signed_in.status == 200, signed_in.describe()
        refresh_token = signed_in.json()["refresh_token"]
        family = family_of(world, refresh_token)
        refresh = refresh_form(client["client_id"], refresh_token, client_secret=client["client_secret"])
        revoke = {"token": refresh_token, "token_type_hint": "refresh_token", **client}
        delay = rng.uniform(0, 0.012)
        refreshed, revoked = fire_together([
            (strict_pair[number % 2].port, TOKEN_PATH, refresh, 0.0),
            (strict_pair[(number + 1) % 2].port, REVOKE_PATH, revoke, delay),
        ])
        trials.append((refreshed, revoked, live_tokens(world, family), delay))

    def successor_left_live(refreshed, live) -> bool:
        return isinstance(refreshed, Response) and refreshed.status == 200 and \
            live == [checksum(refreshed.json()["refresh_token"])]

    leaks = [{"refresh": r.status if isinstance(r, Response) else repr(r), "live_tokens": len(live),
              "live_is_the_refresh_successor": successor_left_live(r, live), "revoke_delay_ms": round(d * 1000, 1)}
             for r, _, live, d in trials if live]
    report_figures("real-servers-refresh-vs-revoke", {
        "trials": len(trials),
        "refresh_won": sum(1 for r, *_ in trials if isinstance(r, Response) and r.status == 200),
        "revocation_200": sum(1 for _, v, *_ in trials if isinstance(v, Response) and v.status == 200),
        "trials_with_active_token_left": len(leaks),
        "responses_5xx": sum(1 for r, v, *_ in trials for x in (r, v) if isinstance(x, Response) and x.status >= 500),
    })
    for refreshed, revoked, _, _ in trials:
        assert isinstance(revoked, Response) and revoked.status == 200, revoked
        assert isinstance(refreshed, Response) and refreshed.status in (200, 400), refreshed
        if refreshed.status == 400:
            assert refreshed.json()["error"] == "invalid_grant", refreshed.describe()
    assert_logs_clean(world, mark)
    assert not leaks, f"a refresh racing a revocation left a live token in {len(leaks)} trials: {leaks[:5]}"
