"""The CPU cost of one RS256 JWT signature (PyJWT + cryptography, 2048-bit key) on one core.

Every access and ID token is one such signature, on every server alike: it is the part of a token
request no implementation can skip, so the benchmark uses it to bound what a target leaves for the rest
(refresh: two signatures per request).

    python rs256_baseline.py [--seconds 2]
"""

import argparse
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    # The size and shape of a Trustframe access token's claims (14 of them).
    claims = {"iss": "https://login.bench.test/00000000-0000-0000-0000-000000000000/v2.0/", "exp": now + 3600,
              "nbf": now, "aud": "00000000-0000-0000-0000-000000000001", "iat": now, "ver": "1.0",
              "tid": "00000000-0000-0000-0000-000000000002", "jti": "0193a0c0-0000-7000-8000-000000000000",
              "tfp": "b2c_1_ropc_auth", "sub": "00000000-0000-0000-0000-000000000003",
              "oid": "00000000-0000-0000-0000-000000000003", "azp": "00000000-0000-0000-0000-000000000004",
              "scp": "app.read app.write", "roles": ["app.read", "app.write"]}
    for _ in range(50):
        jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k"})
    count, cpu0 = 0, time.process_time()
    deadline = time.monotonic() + args.seconds
    while time.monotonic() < deadline:
        jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k"})
        count += 1
    cpu = time.process_time() - cpu0
    print(json.dumps({"ms_per_signature": round(1000 * cpu / max(count, 1), 3), "signatures": count,
                      "seconds": args.seconds}))


if __name__ == "__main__":
    main()
