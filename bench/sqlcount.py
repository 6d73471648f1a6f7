"""SQL queries per request for each grant, in-process (Django test client + CaptureQueriesContext).

Runs every scenario COUNT times against the bench database with the server's environment and reports
the query count of each call (the first call may fill per-process caches; the last is steady state)
and the SQL of the last call.

    python sqlcount.py --target trustframe|dot --creds FILE [--count 3]
"""

import argparse
import json
import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import specs  # noqa: E402

FORM = "application/x-www-form-urlencoded"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", choices=("trustframe", "dot"), required=True)
    parser.add_argument("--creds", type=Path, required=True)
    parser.add_argument("--count", type=int, default=3)
    args = parser.parse_args()
    creds = json.loads(args.creds.read_text())
    if args.target == "trustframe":
        sys.path.insert(0, str(BENCH.parent))
        os.environ["DJANGO_SETTINGS_MODULE"] = "identity.settings"
    else:
        sys.path.insert(0, str(BENCH / "peers" / "dot_project"))
        os.environ["DJANGO_SETTINGS_MODULE"] = "dot_project.settings"
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    requests = specs.BUILDERS[args.target](creds)
    client = Client(HTTP_HOST="127.0.0.1")

    def call(req, body=None):
        extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in req.headers.items()}
        if req.method == "GET":
            return client.get(req.path, **extra)
        return client.post(req.path, data=body if body is not None else req.body, content_type=FORM, **extra)

    report = {}
    for name, req in requests.items():
        if name.startswith("_"):
            continue
        counts, statuses, sql = [], [], []
        for _ in range(args.count):
            body = None
            if isinstance(req, specs.Refresh):  # a fresh refresh token from a real ROPC sign-in, not counted
                minted = call(requests["ropc"])
                body = req.body(minted.json()["refresh_token"])
            with CaptureQueriesContext(connection) as queries:
                response = call(req, body)
            counts.append(len(queries.captured_queries))
            statuses.append(response.status_code)
            sql = [q["sql"][:300] for q in queries.captured_queries]
        report[name] = {"queries": counts, "statuses": statuses, "sql_last_call": sql}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
