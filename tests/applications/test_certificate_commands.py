"""`manage.py addcertificate` and `removecertificate`: certificate credentials from the command line."""

import pytest

from applications.models import ClientCertificate
from audit.models import AuditEvent
from tests.applications.certificate_maker import certificate, der, pem, private_pem, rsa_key, sha1_hex, sha256_hex
from tests.commands.conftest import Run

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(db) -> Run:
    return Run()


@pytest.fixture
def cert_file(tmp_path):
    cert = certificate()
    path = tmp_path / "daemon.cer"
    path.write_bytes(der(cert))
    return cert, path


def test_addcertificate_json_describes_the_stored_certificate(run, daemon_app, cert_file):
    cert, path = cert_file
    data = run.json("addcertificate", daemon_app.client_id, str(path), "--description", "build agent")
    row = ClientCertificate.objects.get()
    assert data == {
        "client_id": daemon_app.client_id, "certificate_id": str(row.key_id), "description": "build agent",
        "thumbprint": sha1_hex(cert), "thumbprint_sha256": sha256_hex(cert), "subject": "CN=daemon.contoso.test",
        "not_before": row.not_before.isoformat().replace("+00:00", "Z"),
        "not_after": row.not_after.isoformat().replace("+00:00", "Z"),
    }
    assert AuditEvent.objects.get(action="client_certificate.add").actor_label == "manage.py addcertificate"


def test_addcertificate_prints_the_thumbprint_for_a_person(run, api_app, tmp_path):
    path = tmp_path / "api.pem"
    cert = certificate()
    path.write_bytes(pem(cert))
    out = run("addcertificate", api_app.app_id_uri, str(path))
    assert sha1_hex(cert) in out and "Tasks API" in out


@pytest.mark.parametrize(("content", "message"), [
    (lambda: pem(certificate()) + private_pem(rsa_key()), "private key"),
    (lambda: b"not a certificate", "not an X.509 certificate"),
])
def test_addcertificate_refuses_bad_files_and_stores_nothing(run, daemon_app, tmp_path, content, message):
    path = tmp_path / "upload.pem"
    path.write_bytes(content())
    assert message in run.fails("addcertificate", daemon_app.client_id, str(path))
    assert not ClientCertificate.objects.exists()


def test_addcertificate_refuses_a_missing_file_an_unknown_app_and_a_public_client(run, daemon_app, native_app,
                                                                                   cert_file):
    _, path = cert_file
    assert "Cannot read" in run.fails("addcertificate", daemon_app.client_id, str(path) + ".missing")
    assert "Unknown application" in run.fails("addcertificate", "00000000-0000-0000-0000-000000000000", str(path))
    assert "public client" in run.fails("addcertificate", native_app.client_id, str(path))
    assert not ClientCertificate.objects.exists()


def test_removecertificate_by_id_or_thumbprint(run, daemon_app, cert_file, tmp_path):
    cert, path = cert_file
    first = run.json("addcertificate", daemon_app.client_id, str(path))
    data = run.json("removecertificate", daemon_app.client_id, first["certificate_id"])
    assert data == {"client_id": daemon_app.client_id, "certificate_id": first["certificate_id"],
                    "thumbprint": sha1_hex(cert), "removed": True}
    run("addcertificate", daemon_app.client_id, str(path))
    assert "Removed certificate" in run("removecertificate", daemon_app.client_id, sha1_hex(cert).lower())
    assert not ClientCertificate.objects.exists()
    assert AuditEvent.objects.filter(action="client_certificate.remove").count() == 2


def test_removecertificate_refuses_an_unknown_certificate(run, daemon_app):
    assert "has no certificate" in run.fails("removecertificate", daemon_app.client_id, "ABCDEF")
