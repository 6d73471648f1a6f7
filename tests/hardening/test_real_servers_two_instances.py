"""Two gunicorn instances on one PostgreSQL and one Redis (issue 4; T53/T56/T58 and T41, marked "[2x]").

A refresh token minted on A refreshes on B (and the chain continues on A); wrong passwords counted on A
and on B add up to one lock that both enforce; `manage.py rotatekeys` run against the database makes
both instances publish the new key (keeping the old one) and sign with it, and every token verifies
against the other instance's JWKS. Skipped on the SQLite run.
"""

import time
from datetime import UTC, datetime

import jwt
import pytest

from tests.hardening.servers import (
    deployment,
    needs_postgres,
    refresh_form,
    report_figures,
    ropc_form,
)

pytestmark = [needs_postgres, pytest.mark.postgres, pytest.mark.spec("SPEC.md", "§3"),
              pytest.mark.spec("SPEC.md", "§4.1")]

LOCKED = "AADB2C90114"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with deployment(tmp_path_factory.mktemp("real-two-instances"), "twoinst") as running:
        yield running


@pytest.fixture(scope="module")
def pair(world):
    return [world.start_instance(name) for name in ("A", "B")]


def sign_in(instance, world, username=None, password=None):
    demo = world.demo
    return instance.token(ropc_form(demo["native_client_id"], username or demo["username"],
                                    password or demo["password"]))


def error_code(response) -> str:
    return response.json().get("error_description", "").split(":", 1)[0] if response.is_json else ""


def verify(token: str, jwks: dict, *, audience: str, issuer: str) -> dict:
    kid = jwt.get_unverified_header(token)["kid"]
    keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}
    assert kid in keys, f"kid {kid} not in the JWKS {sorted(keys)}"
    return jwt.decode(token, key=keys[kid].key, algorithms=["RS256"], audience=audience, issuer=issuer,
                      options={"require": ["exp", "iat", "iss", "aud"]}, leeway=5)


def kid_of(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


def test_a_refresh_token_minted_on_one_instance_refreshes_on_the_other(world, pair):
    a, b = pair
    client_id = world.demo["native_client_id"]
    signed_in = sign_in(a, world)
    assert signed_in.status == 200, signed_in.describe()
    on_b = b.token(refresh_form(client_id, signed_in.json()["refresh_token"]))
    assert on_b.status == 200, on_b.describe()
    back_on_a = a.token(refresh_form(client_id, on_b.json()["refresh_token"]))
    assert back_on_a.status == 200, back_on_a.describe()
    assert len({signed_in.json()["refresh_token"], on_b.json()["refresh_token"],
                back_on_a.json()["refresh_token"]}) == 3


def test_wrong_passwords_on_both_instances_add_up_to_one_lock(world, pair):
    a, b = pair
    username, password = "two-instance-lee", "Two-Instance-Lee-2048!"
    world.manage_json("createuser", username, "--password", password)
    failures = [sign_in(a, world, username, f"wrong-on-A-{i}") for i in range(5)]
    failures += [sign_in(b, world, username, f"wrong-on-B-{i}") for i in range(5)]
    assert all(r.status == 400 and r.json()["error"] == "invalid_grant" for r in failures), \
        [r.describe() for r in failures]
    assert all(error_code(r) != LOCKED for r in failures[:-1]), [r.describe() for r in failures]
    locked_on = {}
    for instance in pair:
        response = sign_in(instance, world, username, password)
        locked_on[instance.name] = response.status == 400 and error_code(response) == LOCKED
        assert locked_on[instance.name], f"{instance.name}: {response.describe()}"
    rows = world.sql("SELECT lockouts, locked_until FROM accounts_signinthrottle WHERE locked_until IS NOT NULL")
    assert len(rows) == 1 and rows[0][0] == 1, rows
    lock_seconds = (rows[0][1] - datetime.now(UTC)).total_seconds()
    report_figures("real-servers-two-instance-lockout", {
        "wrong_passwords_on_A": 5, "wrong_passwords_on_B": 5, "locked_on_A": locked_on["A"],
        "locked_on_B": locked_on["B"], "lock_seconds_remaining": round(lock_seconds, 1),
    })
    assert 0 < lock_seconds <= 60


def test_key_rotation_is_seen_by_both_instances(world, pair):
    a, b = pair
    client_id = world.demo["native_client_id"]
    issuer = a.openid_configuration()["issuer"]
    assert b.openid_configuration()["issuer"] == issuer
    assert a.jwks() == b.jwks()
    old_kids = {key["kid"] for key in a.jwks()["keys"]}
    before = sign_in(a, world).json()
    old_kid = kid_of(before["id_token"])
    assert old_kid in old_kids

    rotated = world.manage_json("rotatekeys")
    new_kid = rotated["kid"]
    assert new_kid != old_kid
    started = time.monotonic()
    deadline = started + 10
    while True:
        jwks_a, jwks_b = a.jwks(), b.jwks()
        published = [{key["kid"] for key in jwks["keys"]} for jwks in (jwks_a, jwks_b)]
        if all(new_kid in kids for kids in published) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    published_after = round(time.monotonic() - started, 3)
    assert all({new_kid, old_kid} <= kids for kids in published), (new_kid, old_kid, published)
    assert jwks_a == jwks_b

    # The new key signs once every process can be publishing it (DIRECTORY_CACHE_SECONDS + 1 after its
    # creation); until then the old one does, which every JWKS still lists.
    meanwhile = []
    while True:
        minted = {instance.name: sign_in(instance, world).json() for instance in pair}
        kids = {kid_of(body[name]) for body in minted.values() for name in ("id_token", "access_token")}
        if kids == {new_kid} or time.monotonic() > deadline:
            break
        assert kids <= {old_kid, new_kid}, kids
        meanwhile.extend(minted.values())
        time.sleep(0.2)
    for name, body in minted.items():
        assert kid_of(body["id_token"]) == new_kid, f"{name} still signs with {kid_of(body['id_token'])}"
        assert kid_of(body["access_token"]) == new_kid, name
    # Every token, minted on either instance, before, during or after the rotation, verifies against both JWKS.
    checked = 0
    for body in (before, *meanwhile, *minted.values()):
        for token in (body["id_token"], body["access_token"]):
            for jwks in (jwks_a, jwks_b):
                verify(token, jwks, audience=client_id, issuer=issuer)
                checked += 1
    # Tokens minted after the rotation refresh on the other instance too.
    refreshed = b.token(refresh_form(client_id, minted["A"]["refresh_token"]))
    assert refreshed.status == 200, refreshed.describe()
    assert kid_of(refreshed.json()["id_token"]) == new_kid
    report_figures("real-servers-two-instance-key-rotation", {
        "old_kid_still_published": all(old_kid in kids for kids in published),
        "new_kid_published_on_both": all(new_kid in kids for kids in published),
        "seconds_until_published_on_both": published_after,
        "signatures_verified_across_instances": checked,
    })
