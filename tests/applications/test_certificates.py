"""Certificate credentials: the services that add and remove them, the selectors, the cached keys."""

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from applications import services as applications
from applications.certificates import (
    client_certificate_add,
    client_certificate_get,
    client_certificate_remove,
    client_certificates_of,
)
from applications.client_auth import client_certificate_keys
from applications.models import ClientCertificate
from audit.models import AuditEvent
from tests.applications.certificate_maker import (
    certificate,
    der,
    ec_key,
    pem,
    private_pem,
    rsa_key,
    sha1_hex,
    sha256_hex,
)
from tests.conftest import ACTOR

pytestmark = pytest.mark.django_db


def add(app, data, **kwargs) -> ClientCertificate:
    return client_certificate_add(application=app, certificate=data, actor=ACTOR, **kwargs)


def refused(app, data) -> str:
    """The message of a refused upload, after checking nothing was stored or audited."""
    audits = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as excinfo:
        add(app, data)
    assert not ClientCertificate.objects.exists()
    assert AuditEvent.objects.count() == audits
    return " ".join(excinfo.value.messages)


# --- adding ------------------------------------------------------------------------------------------


def test_a_pem_certificate_is_stored_with_its_thumbprints_subject_and_validity(daemon_app):
    cert = certificate(common_name="daemon.contoso.test", days=30)
    row = add(daemon_app, pem(cert), description="  build agent  ")
    assert row.thumbprint_sha1 == hashlib.sha1(der(cert)).hexdigest().upper()  # noqa: S324 - Entra's thumbprint
    assert row.thumbprint_sha256 == hashlib.sha256(der(cert)).hexdigest().upper()
    assert row.subject == "CN=daemon.contoso.test"
    assert row.not_before == cert.not_valid_before_utc and row.not_after == cert.not_valid_after_utc
    assert row.description == "build agent"
    assert row.certificate.encode() == pem(cert)


def test_a_der_certificate_is_accepted_and_stored_as_pem(daemon_app):
    cert = certificate()
    row = add(daemon_app, der(cert))
    assert row.certificate.startswith("-----BEGIN CERTIFICATE-----")
    assert row.thumbprint_sha256 == sha256_hex(cert)


def test_pem_text_with_comments_around_the_block_is_accepted(daemon_app):
    cert = certificate()
    row = add(daemon_app, "subject=CN = daemon\nissuer=CN = daemon\n" + pem(cert).decode())
    assert row.thumbprint_sha1 == sha1_hex(cert)


def test_several_certificates_per_app_and_the_same_certificate_on_two_apps(daemon_app, api_app):
    first, second = certificate(), certificate(rsa_key("second"))
    add(daemon_app, pem(first))
    add(daemon_app, pem(second))
    add(api_app, pem(first))
    assert list(client_certificates_of(daemon_app).values_list("thumbprint_sha1", flat=True)) == [
        sha1_hex(second), sha1_hex(first)]


def test_adding_is_audited_with_the_thumbprint_and_never_the_certificate_body(daemon_app):
    row = add(daemon_app, pem(certificate()))
    event = AuditEvent.objects.get(action="client_certificate.add")
    assert event.target_id == str(daemon_app.pk)
    assert event.details["certificate_id"] == str(row.key_id)
    assert event.details["thumbprint"] == row.thumbprint_sha1
    assert "BEGIN" not in str(event.details)


# --- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [serialization.PrivateFormat.PKCS8, serialization.PrivateFormat.TraditionalOpenSSL])
def test_a_file_with_a_private_key_is_refused_with_a_warning_and_never_stored(daemon_app, fmt):
    bundle = pem(certificate()) + private_pem(rsa_key(), fmt)  # what `openssl req -x509 -nodes` users often upload
    message = refused(daemon_app, bundle)
    assert "private key" in message and "not stored" in message


def test_an_encrypted_pem_private_key_is_refused(daemon_app):
    encrypted = rsa_key().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.BestAvailableEncryption(b"pw"))
    assert "private key" in refused(daemon_app, encrypted)


@pytest.mark.parametrize("encryption", [None, b"pw"])
def test_a_der_private_key_is_refused(daemon_app, encryption):
    algorithm = serialization.BestAvailableEncryption(encryption) if encryption else serialization.NoEncryption()
    key = rsa_key().private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, algorithm)
    assert "private key" in refused(daemon_app, key)


@pytest.mark.parametrize("encryption", [None, b"pw"])
def test_a_pfx_with_the_private_key_is_refused(daemon_app, encryption):
    algorithm = serialization.BestAvailableEncryption(encryption) if encryption else serialization.NoEncryption()
    pfx = pkcs12.serialize_key_and_certificates(b"daemon", rsa_key(), certificate(), None, algorithm)
    assert "private key" in refused(daemon_app, pfx)


@pytest.mark.parametrize("data", [b"", b"hello", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
                                  b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
                                  bytes(range(256))])
def test_anything_that_is_not_a_certificate_is_refused(daemon_app, data):
    message = refused(daemon_app, data)
    assert "certificate" in message


def test_a_chain_of_two_certificates_is_refused(daemon_app):
    chain = pem(certificate()) + pem(certificate(rsa_key("second")))
    assert "2 certificates" in refused(daemon_app, chain)


def test_a_huge_file_is_refused_without_parsing(daemon_app):
    assert "larger than" in refused(daemon_app, b"A" * (65 * 1024))


def test_an_expired_certificate_is_refused(daemon_app):
    past = datetime.now(UTC) - timedelta(days=10)
    assert "expired" in refused(daemon_app, pem(certificate(not_before=past, days=5)))


def test_an_rsa_key_under_2048_bits_is_refused(daemon_app):
    small = rsa_key("small", 1024)
    assert "1024 bits" in refused(daemon_app, pem(certificate(small)))


def test_a_non_rsa_key_is_refused(daemon_app):
    assert "not RSA" in refused(daemon_app, pem(certificate(ec_key())))


def test_a_public_client_cannot_have_certificates(native_app):
    assert "public client" in refused(native_app, pem(certificate()))


def test_the_same_certificate_twice_on_one_app_is_refused(daemon_app):
    cert = certificate()
    add(daemon_app, pem(cert))
    with pytest.raises(ValidationError, match="already registered"):
        add(daemon_app, der(cert))
    assert daemon_app.certificates.count() == 1


# --- removing and finding ----------------------------------------------------------------------------


def test_removing_deletes_the_row_and_audits_it(daemon_app):
    row = add(daemon_app, pem(certificate()))
    client_certificate_remove(certificate=row, actor=ACTOR)
    assert not ClientCertificate.objects.exists()
    event = AuditEvent.objects.get(action="client_certificate.remove")
    assert event.details["thumbprint"] == row.thumbprint_sha1 and event.actor_label == ACTOR


def test_a_certificate_is_found_by_id_or_either_thumbprint_in_any_case_with_or_without_colons(daemon_app):
    row = add(daemon_app, pem(certificate()))
    coloned = ":".join(row.thumbprint_sha1[i:i + 2] for i in range(0, 40, 2)).lower()
    for identifier in (str(row.key_id), str(row.key_id).upper(), row.thumbprint_sha1, coloned,
                       row.thumbprint_sha256.lower()):
        assert client_certificate_get(application=daemon_app, identifier=identifier) == row


def test_another_apps_certificate_or_an_unknown_id_is_not_found(daemon_app, api_app):
    row = add(api_app, pem(certificate()))
    for identifier in (str(row.key_id), row.thumbprint_sha1, "nonsense", "ABCD"):
        with pytest.raises(ValidationError, match="has no certificate"):
            client_certificate_get(application=daemon_app, identifier=identifier)


def test_turning_the_app_public_removes_its_certificates_so_turning_it_back_cannot_revive_them(daemon_app):
    row = add(daemon_app, pem(certificate()))
    daemon_app.client_type = daemon_app.CLIENT_PUBLIC
    applications.application_update(application=daemon_app, changed=["client_type"], actor=ACTOR)
    assert not ClientCertificate.objects.exists()
    event = AuditEvent.objects.get(action="application.update")
    assert event.details["certificates_removed"] == [str(row.key_id)]


def test_deleting_the_app_deletes_its_certificates(daemon_app):
    add(daemon_app, pem(certificate()))
    applications.application_delete(application=daemon_app, actor=ACTOR)
    assert not ClientCertificate.objects.exists()


# --- the token endpoint's cached view ----------------------------------------------------------------


def test_the_cached_keys_are_read_once_then_served_without_a_query(daemon_app):
    cert = certificate()
    add(daemon_app, pem(cert))
    (key,) = client_certificate_keys(daemon_app)
    assert key.sha1 == bytes.fromhex(sha1_hex(cert)) and key.sha256 == bytes.fromhex(sha256_hex(cert))
    assert key.public_key.public_numbers() == rsa_key().public_key().public_numbers()
    with CaptureQueriesContext(connection) as queries:
        client_certificate_keys(daemon_app)
    assert [q["sql"] for q in queries if "clientcertificate" in q["sql"].lower()] == []


def test_adding_or_removing_a_certificate_refreshes_the_cached_keys(daemon_app):
    assert client_certificate_keys(daemon_app) == ()
    row = add(daemon_app, pem(certificate()))
    assert [k.key_id for k in client_certificate_keys(daemon_app)] == [str(row.key_id)]
    client_certificate_remove(certificate=row, actor=ACTOR)
    assert client_certificate_keys(daemon_app) == ()
