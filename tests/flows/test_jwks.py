"""The JWKS (SPEC §2, §3): every key that may have signed a live token, and nothing private."""

import json
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError
from django.utils import timezone
from jwcrypto import jwk, jwt

from audit.models import AuditEvent
from identity.keys.models import SigningKey
from identity.keys.selectors import active_signing_key
from identity.keys.services import signing_key_ensure, signing_key_rotate
from tests.conftest import ACTOR
from tests.flows.conftest import TENANT
from tests.flows.token_helpers import post_token, ropc_data

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§3")]

JWKS_URL = f"/{TENANT}/B2C_1_ROPC_Auth/discovery/v2.0/keys"


def kids(response) -> list[str]:
    assert response.status_code == 200
    return [key["kid"] for key in response.json()["keys"]]


def signed_with_active_key() -> str:
    kid, private_key = active_signing_key()
    token = jwt.JWT(header={"alg": "RS256", "kid": kid, "typ": "JWT"},
                    claims={"sub": "someone", "exp": int(time.time()) + 60})
    token.make_signed_token(jwk.JWK.from_pyca(private_key))
    return token.serialize()


def test_jwks_verifies_a_token_signed_with_the_active_key(client, policy, signing_key):
    response = client.get(JWKS_URL)
    assert response["Content-Type"] == "application/json"
    keyset = jwk.JWKSet.from_json(response.content)
    verified = jwt.JWT(jwt=signed_with_active_key(), key=keyset, algs=["RS256"])
    assert json.loads(verified.claims)["sub"] == "someone"
    published = keyset.get_key(signing_key.kid)
    assert published["kty"] == "RSA" and published["use"] == "sig" and published["alg"] == "RS256"


def test_jwks_publishes_no_private_key_material(client, policy, signing_key):
    for key in client.get(JWKS_URL).json()["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_rotation_publishes_the_new_kid_and_keeps_the_old_one(client, policy, signing_key):
    new = signing_key_rotate(actor=ACTOR)
    published = kids(client.get(JWKS_URL))
    assert set(published) == {signing_key.kid, new.kid}
    # Tokens signed by the new key verify against what is published now.
    jwt.JWT(jwt=signed_with_active_key(), key=jwk.JWKSet.from_json(client.get(JWKS_URL).content))


def test_a_retired_key_past_its_publication_window_disappears(client, policy, signing_key):
    new = signing_key_rotate(actor=ACTOR)
    SigningKey.objects.filter(pk=signing_key.pk).update(published_until=timezone.now() - timedelta(seconds=1))
    assert kids(client.get(JWKS_URL)) == [new.kid]


def test_both_url_shapes_serve_the_same_keys(client, policy, signing_key):
    by_query = client.get(f"/{TENANT.upper()}/discovery/v2.0/keys", {"p": "b2c_1_ropc_auth"})
    assert by_query.json() == client.get(JWKS_URL).json()


def test_jwks_uri_of_the_discovery_document_serves_the_keys(client, policy, signing_key):
    doc = client.get(f"/{TENANT}/B2C_1_ROPC_Auth/v2.0/.well-known/openid-configuration").json()
    path = doc["jwks_uri"].removeprefix("https://login.contoso.test")
    assert kids(client.get(path)) == [signing_key.kid]


def test_jwks_is_cacheable_briefly_and_revalidates(client, policy, signing_key):
    response = client.get(JWKS_URL)
    assert response["Cache-Control"] == "public, max-age=60"
    assert client.get(JWKS_URL, headers={"if-none-match": response["ETag"]}).status_code == 304
    signing_key_rotate(actor=ACTOR)
    assert client.get(JWKS_URL, headers={"if-none-match": response["ETag"]}).status_code == 200


def test_a_fresh_server_creates_its_first_key_on_the_first_request(client, policy):
    assert not SigningKey.objects.exists()
    first = kids(client.get(JWKS_URL))
    assert len(first) == 1
    assert kids(client.get(JWKS_URL)) == first
    assert SigningKey.objects.get().active
    assert AuditEvent.objects.filter(action="signing_key.rotate", actor_label__startswith="system").count() == 1


def test_losing_the_race_for_the_first_key_serves_the_winners_key(client, policy, monkeypatch):
    # Another worker commits its key between our empty read and our insert: our insert fails.
    winner = {}

    def ensure_after_another_worker(*, actor):
        if "key" in winner:
            return signing_key_ensure(actor=actor)
        winner["key"] = signing_key_rotate(actor="the other worker")
        raise IntegrityError("duplicate key value violates unique constraint one_active_signing_key")

    monkeypatch.setattr("identity.keys.services.signing_key_ensure", ensure_after_another_worker)
    response = client.get(JWKS_URL)
    assert kids(response) == [winner["key"].kid]
    assert SigningKey.objects.count() == 1
    assert response["Cache-Control"] == "public, max-age=60"


def test_an_empty_key_set_is_never_cached(client, policy, monkeypatch):
    def ensure_fails(*, actor):
        raise IntegrityError("lost the race, and the winner has not committed yet")

    monkeypatch.setattr("identity.keys.services.signing_key_ensure", ensure_fails)
    response = client.get(JWKS_URL)
    assert response.json() == {"keys": []}
    assert response["Cache-Control"] == "no-store"


def test_retire_now_withdraws_a_compromised_key_so_its_tokens_stop_validating(client, user, native_app, policy,
                                                                             signing_key):
    """`rotatekeys --retire-now KID`: the kid leaves the JWKS at once, tokens it signed no longer verify
    against the JWKS, and new tokens are signed by the new active key."""
    cid = str(native_app.client_id)
    before = post_token(client, ropc_data(cid))
    assert before.status_code == 200, before.content
    old_token = before.json()["access_token"]
    assert jwt.JWT(jwt=old_token, key=jwk.JWKSet.from_json(client.get(JWKS_URL).content), algs=["RS256"])

    out = StringIO()
    call_command("rotatekeys", "--retire-now", signing_key.kid, "--json", stdout=out)
    new_kid = json.loads(out.getvalue())["kid"]

    keyset = jwk.JWKSet.from_json(client.get(JWKS_URL).content)
    assert kids(client.get(JWKS_URL)) == [new_kid] and signing_key.kid not in kids(client.get(JWKS_URL))
    with pytest.raises(jwt.JWTMissingKey):
        jwt.JWT(jwt=old_token, key=keyset, algs=["RS256"])
    after = post_token(client, ropc_data(cid)).json()["access_token"]
    assert jwt.JWT(jwt=after, key=keyset, algs=["RS256"]).token.jose_header["kid"] == new_kid
