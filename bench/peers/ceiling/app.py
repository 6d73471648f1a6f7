"""The floor under Trustframe's client-credentials path: a bare WSGI app that does only what no token
server can skip, served by the same granian as Trustframe.

It reads the form, checks the client's secret (Basic or post, constant time), and signs an RS256 JWT with
the claims of Trustframe's client-credentials token (PyJWT + cryptography, as Trustframe signs). No
Django, no oauthlib, no policy, no consent, no audit, no error handling worth the name: it is not a
peer but a measuring stick. The gap between its row and Trustframe's is what Django's request cycle,
oauthlib and Trustframe's own checks cost; the gap between its row and node's is what Python and the
server cost (issue 5, "what would move it").

    CEILING_SECRET=... granian --interface wsgi --working-dir bench/peers/ceiling app:application
"""

import base64
import hmac
import json
import os
import time
import uuid
from urllib.parse import parse_qsl, unquote_plus

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KID = "ceiling-rs256"
SECRET = os.environ["CEILING_SECRET"].encode()
CLIENTS = {"bench-basic", "bench-post"}
TENANT = str(uuid.uuid4())
ISSUER = f"https://login.bench.test/{TENANT}/v2.0/"
API = str(uuid.uuid4())
HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def _answer(start_response, status: str, payload: dict) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [*HEADERS, ("Content-Length", str(len(body)))])
    return [body]


def _client(environ: dict, form: dict) -> tuple[str, bytes] | None:
    header = environ.get("HTTP_AUTHORIZATION", "")
    if header[:6].lower() == "basic ":
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return unquote_plus(client_id), unquote_plus(secret).encode()
    if "client_id" in form:
        return form["client_id"], form.get("client_secret", "").encode()
    return None


def application(environ: dict, start_response) -> list[bytes]:
    if environ["REQUEST_METHOD"] == "GET":  # readiness probe
        return _answer(start_response, "200 OK", {"issuer": ISSUER})
    length = int(environ.get("CONTENT_LENGTH") or 0)
    form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
    client = _client(environ, form)
    if client is None or client[0] not in CLIENTS or not hmac.compare_digest(client[1], SECRET):
        return _answer(start_response, "401 Unauthorized", {"error": "invalid_client"})
    if form.get("grant_type") != "client_credentials":
        return _answer(start_response, "400 Bad Request", {"error": "unsupported_grant_type"})
    now = int(time.time())
    claims = {"iss": ISSUER, "exp": now + 3600, "nbf": now, "aud": API, "iat": now, "ver": "1.0", "tid": TENANT,
              "jti": str(uuid.uuid4()), "tfp": "b2c_1_ropc_auth", "sub": client[0], "oid": client[0],
              "azp": client[0], "scp": "app.read app.write", "roles": ["app.read", "app.write"]}
    token = jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": KID})
    return _answer(start_response, "200 OK", {"access_token": token, "token_type": "Bearer", "not_before": now,
                                              "expires_in": 3600, "expires_on": now + 3600, "resource": API})
