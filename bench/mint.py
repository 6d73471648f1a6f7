"""Pre-mint a pool of refresh tokens through the real ROPC grant, in-process (Django test client).

Refresh tokens rotate, so the refresh scenario needs one unused token per request. Minting them over
HTTP would cost one Argon2 (Trustframe) or PBKDF2 (DOT) verification each, slower than the refresh
rate being measured. So the pool belongs to a separate mint user whose password hash is cheap (the
same hasher at minimal cost parameters, set only in this process): the tokens come from the same
ROPC code path and the server's refresh path never looks at the password.

    python mint.py --target trustframe|dot --creds FILE --count N --out FILE [--procs 2]

Run with the main venv's python and the target's environment (bench.py does this). Appends one token
a line to --out; prints {"minted": N, "seconds": S, "errors": [...]} on stdout.
"""

import argparse
import json
import multiprocessing
import os
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import specs  # noqa: E402

FORM = "application/x-www-form-urlencoded"


def setup(target: str) -> None:
    if target == "trustframe":
        sys.path.insert(0, str(BENCH.parent))
        os.environ["DJANGO_SETTINGS_MODULE"] = "identity.settings"
        # The mint user's hash, created and verified at minimal Argon2 cost in this process only.
        os.environ.update(ARGON2_TIME_COST="1", ARGON2_MEMORY_COST_KIB="8", ARGON2_PARALLELISM="1")
    else:
        sys.path.insert(0, str(BENCH / "peers" / "dot_project"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "dot_project.settings"
    import django

    django.setup()
    if target == "dot":
        from django.test.utils import override_settings

        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]).enable()


def ensure_mint_user(target: str, password: str) -> None:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    if User.objects.filter(username=specs.MINT_USERNAME).exists():
        return
    if target == "trustframe":
        from accounts import services

        services.user_create(actor="bench", username=specs.MINT_USERNAME, email="bench-refresh@example.com",
                             password=password, display_name="Bench Refresh", given_name="Bench",
                             surname="Refresh")
    else:
        User.objects.create_user(username=specs.MINT_USERNAME, password=password)


def worker(args: tuple) -> tuple[list[str], list[str]]:
    target, creds, count = args
    from django.test import Client

    req = specs.BUILDERS[target](creds)["_mint"]
    client = Client(HTTP_HOST="127.0.0.1")
    tokens, errors = [], []
    for _ in range(count):
        response = client.post(req.path, data=req.body, content_type=FORM)
        if response.status_code == 200:
            tokens.append(response.json()["refresh_token"])
        else:
            errors.append(f"{response.status_code} {response.content[:200]!r}")
            if len(errors) >= 5:
                break
    return tokens, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", choices=("trustframe", "dot"), required=True)
    parser.add_argument("--creds", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--procs", type=int, default=2)
    args = parser.parse_args()
    creds = json.loads(args.creds.read_text())
    setup(args.target)
    ensure_mint_user(args.target, creds["mint_password"])
    from django.db import connections

    connections.close_all()  # each forked worker opens its own connection
    started = time.monotonic()
    shares = [args.count // args.procs + (1 if i < args.count % args.procs else 0) for i in range(args.procs)]
    with multiprocessing.get_context("fork").Pool(args.procs) as pool:
        results = pool.map(worker, [(args.target, creds, n) for n in shares if n])
    tokens = [t for ts, _ in results for t in ts]
    errors = [e for _, es in results for e in es]
    with args.out.open("a") as handle:
        handle.writelines(t + "\n" for t in tokens)
    print(json.dumps({"minted": len(tokens), "seconds": round(time.monotonic() - started, 2), "errors": errors[:5]}))
    sys.exit(0 if tokens else 1)


if __name__ == "__main__":
    main()
