"""identity.localtls and `manage.py localtls`: the local CA and server certificate of `make run-tls`
(issue 17, item 5). Certificates are checked the way clients check them: a TLS handshake with the CA file."""

import datetime
import json
import os
import ssl
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from identity import localtls
from identity.localtls import local_tls_ensure

pytestmark = pytest.mark.spec("issue 17", "item 5")

ROOT = Path(__file__).resolve().parents[2]
FILES = ("ca.pem", "ca-key.pem", "server.pem", "server-key.pem")


def handshake(directory: Path, server_hostname: str, *, cert_file: Path | None = None,
              key_file: Path | None = None) -> None:
    """A TLS handshake in memory: the server presents the certificate, the client trusts only ca.pem."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file or directory / "server.pem", key_file or directory / "server-key.pem")
    client_context = ssl.create_default_context(cafile=str(directory / "ca.pem"))
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, to_server, server_hostname=server_hostname)
    server = server_context.wrap_bio(to_server, to_client, server_side=True)
    for _ in range(10):
        for side in (client, server):
            try:
                side.do_handshake()
            except ssl.SSLWantReadError:
                pass
        try:
            client.do_handshake()
            return
        except ssl.SSLWantReadError:
            continue
    raise AssertionError("the handshake did not finish")


def contents(directory: Path) -> dict[str, bytes]:
    return {name: (directory / name).read_bytes() for name in FILES}


def test_a_ca_and_a_server_certificate_for_the_loopback_names_are_made(tmp_path):
    tls = local_tls_ensure(tmp_path / "tls")
    assert tls.ca_created and tls.server_created
    assert tls.ca_file == tmp_path / "tls" / "ca.pem"
    assert tls.names == ["localhost", "127.0.0.1", "::1"]
    for name in ("localhost", "127.0.0.1", "::1"):
        handshake(tls.directory, name)
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(tls.directory, "trustframe.example")  # not a name of the certificate


def test_private_keys_are_0600_and_the_directory_0700(tmp_path):
    tls = local_tls_ensure(tmp_path / "tls")
    assert oct(tls.directory.stat().st_mode & 0o777) == "0o700"
    assert oct((tls.directory / "ca-key.pem").stat().st_mode & 0o777) == "0o600"
    assert oct(tls.key_file.stat().st_mode & 0o777) == "0o600"
    assert b"BEGIN PRIVATE KEY" in tls.key_file.read_bytes()  # PKCS#8: what granian reads
    assert not list(tls.directory.glob(".*.tmp"))


def test_a_valid_ca_and_certificate_are_reused_byte_for_byte(tmp_path):
    first = local_tls_ensure(tmp_path)
    before = contents(tmp_path)
    again = local_tls_ensure(tmp_path)
    assert not again.ca_created and not again.server_created
    assert contents(tmp_path) == before
    assert again.ca_sha256 == first.ca_sha256


def test_a_server_certificate_near_its_end_is_renewed_under_the_same_ca(tmp_path):
    local_tls_ensure(tmp_path)
    before = contents(tmp_path)
    later = datetime.datetime.now(datetime.UTC) + localtls.SERVER_VALIDITY - datetime.timedelta(days=10)
    renewed = local_tls_ensure(tmp_path, now=later)
    assert renewed.server_created and not renewed.ca_created
    after = contents(tmp_path)
    assert after["ca.pem"] == before["ca.pem"] and after["ca-key.pem"] == before["ca-key.pem"]
    assert after["server.pem"] != before["server.pem"] and after["server-key.pem"] != before["server-key.pem"]
    assert renewed.server_not_after > later + datetime.timedelta(days=300)
    ca_cert = x509.load_pem_x509_certificate(after["ca.pem"])
    x509.load_pem_x509_certificate(after["server.pem"]).verify_directly_issued_by(ca_cert)


def test_a_server_certificate_from_another_ca_is_replaced(tmp_path):
    other = local_tls_ensure(tmp_path / "other")
    local_tls_ensure(tmp_path / "tls")
    for name in ("server.pem", "server-key.pem"):
        (tmp_path / "tls" / name).write_bytes((other.directory / name).read_bytes())
    assert local_tls_ensure(tmp_path / "tls").server_created
    handshake(tmp_path / "tls", "localhost")


def test_a_ca_is_never_replaced_silently(tmp_path):
    local_tls_ensure(tmp_path)
    before = contents(tmp_path)
    expired = datetime.datetime.now(datetime.UTC) + localtls.CA_VALIDITY
    with pytest.raises(ValidationError, match=r"expires on .*manage.py localtls --new-ca"):
        local_tls_ensure(tmp_path, now=expired)
    (tmp_path / "ca-key.pem").unlink()
    with pytest.raises(ValidationError, match="cannot be read"):
        local_tls_ensure(tmp_path)
    (tmp_path / "ca-key.pem").write_bytes(before["server-key.pem"])  # a key, but not the CA's
    with pytest.raises(ValidationError, match="does not match"):
        local_tls_ensure(tmp_path)
    (tmp_path / "ca-key.pem").write_bytes(before["ca-key.pem"])
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(ValidationError, match="cannot be read"):
        local_tls_ensure(tmp_path)
    assert (tmp_path / "ca.pem").read_text() == "not a certificate"


def test_new_ca_replaces_the_ca_and_the_server_certificate(tmp_path):
    first = local_tls_ensure(tmp_path)
    before = contents(tmp_path)
    replaced = local_tls_ensure(tmp_path, new_ca=True)
    assert replaced.ca_created and replaced.server_created and replaced.ca_sha256 != first.ca_sha256
    assert all(contents(tmp_path)[name] != before[name] for name in FILES)
    handshake(tmp_path, "localhost")


def test_the_ca_cannot_vouch_for_any_name_but_the_loopback(tmp_path):
    tls = local_tls_ensure(tmp_path)
    ca_cert = x509.load_pem_x509_certificate(tls.ca_file.read_bytes())
    constraints = ca_cert.extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical
    ca_key = serialization.load_pem_private_key((tmp_path / "ca-key.pem").read_bytes(), password=None)
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    rogue = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bank.example")]))
        .issuer_name(ca_cert.subject).public_key(rogue_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("bank.example")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "rogue.pem").write_bytes(rogue.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "rogue-key.pem").write_bytes(rogue_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ssl.SSLCertVerificationError, match="permitted subtree violation"):
        handshake(tmp_path, "bank.example", cert_file=tmp_path / "rogue.pem", key_file=tmp_path / "rogue-key.pem")


def test_the_command_prints_the_files_and_keeps_them_on_a_second_run(tmp_path):
    out = StringIO()
    call_command("localtls", "--dir", str(tmp_path), "--json", stdout=out)
    first = json.loads(out.getvalue())
    assert first["ca_created"] and first["server_created"]
    assert first["ca_file"] == str(tmp_path / "ca.pem") and first["key_file"] == str(tmp_path / "server-key.pem")
    assert first["names"] == ["localhost", "127.0.0.1", "::1"]
    out = StringIO()
    call_command("localtls", "--dir", str(tmp_path), stdout=out)
    assert "(kept, valid until" in out.getvalue() and first["ca_sha256"] in out.getvalue()


def test_the_command_refuses_an_expired_ca_in_one_line_and_new_ca_replaces_it(tmp_path):
    local_tls_ensure(tmp_path, now=datetime.datetime.now(datetime.UTC) - localtls.CA_VALIDITY)
    with pytest.raises(CommandError, match="--new-ca") as refused:
        call_command("localtls", "--dir", str(tmp_path), stdout=StringIO())
    assert "\n" not in str(refused.value)
    out = StringIO()
    call_command("localtls", "--dir", str(tmp_path), "--new-ca", "--json", stdout=out)
    assert json.loads(out.getvalue())["ca_created"]


def test_the_command_needs_no_database(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "identity.settings", "DEBUG": "true",
           "DATABASE_URL": f"sqlite:///{tmp_path}/missing-directory/db.sqlite3"}
    result = subprocess.run([sys.executable, "manage.py", "localtls", "--dir", str(tmp_path / "tls"), "--json"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["ca_created"]
