"""A graceful shutdown writes the sign-in events still waiting in each worker (audit/sign_in_buffer.py).

The flush interval is set far longer than the test, so every event is still pending when the server
is stopped (SIGTERM to its process group, as a deploy or restart does): granian's workers leave through
multiprocessing (os._exit, no atexit), gunicorn's through sys.exit.
"""

import sqlite3

import pytest

from tests.flows.tls_server import client_credentials, session_for, tls_trustframe

pytestmark = pytest.mark.spec("SPEC.md", "§5")

REQUESTS = 20


@pytest.mark.parametrize("server_name", ["granian", "gunicorn"])
def test_events_pending_at_a_graceful_shutdown_are_written(tmp_path, server_name):
    with tls_trustframe(tmp_path, server=server_name, extra_env={"SIGN_IN_EVENTS_FLUSH_SECONDS": "600"}) as server:
        with session_for(server) as http:
            for _ in range(REQUESTS):
                response = client_credentials(server, http, server.demo["daemon_client_id"],
                                              server.demo["daemon_client_secret"])
                assert response.status_code == 200, response.text
        with sqlite3.connect(server.db_path) as db:
            (pending_now,) = db.execute(
                "SELECT COUNT(*) FROM audit_signinevent WHERE grant_type = 'client_credentials'").fetchone()
        assert pending_now < REQUESTS  # still waiting in the workers: the shutdown is what writes them
    with sqlite3.connect(server.db_path) as db:
        (written,) = db.execute(
            "SELECT COUNT(*) FROM audit_signinevent WHERE grant_type = 'client_credentials' AND succeeded = 1"
        ).fetchone()
    assert written == REQUESTS, server.log_tail()
