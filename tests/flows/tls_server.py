"""A real Trustframe server over TLS, for clients that insist on https:// (MSAL): gunicorn + a throwaway CA.

    with tls_trustframe(tmp_dir) as server:
        server.url, server.ca_file, server.demo["native_client_id"], server.db_path ...

The server runs `.venv/bin/gunicorn identity.wsgi` in its own process group against a temporary SQLite
file (whatever database the suite itself uses), migrated and given the demo tenant through
`manage.py`; it is always killed, group and all, when the block ends.
"""

import base64
import datetime
import ipaddress
import json
import os
import secrets
import socket
import ssl
import string
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.flows.processes import (
    free_port,
    granian_path,
    gunicorn_path,
    manage,
    stop_process_group,
    wait_until_answering,
)

ROOT = Path(__file__).resolve().parents[2]
TENANT = "contoso.onmicrosoft.com"
HOST = "localhost"


@dataclass
class TlsServer:
    port: int
    ca_file: Path
    db_path: Path
    log_path: Path
    demo: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"https://{HOST}:{self.port}"

    def authority(self, policy: str = "B2C_1_ROPC_Auth") -> str:
        return f"{self.origin}/{TENANT}/{policy}"

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1; returns (ca, cert, key) files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = _key(), _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Trustframe test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName(HOST), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_pem_key(server_key))
    key_file.chmod(0o600)
    return ca_file, cert_file, key_file


def server_env(port: int, db_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "IDENTITY_KEY_SECRET"}}
    alphabet = string.ascii_letters + string.digits
    env.update(
        DJANGO_SETTINGS_MODULE="identity.settings", DEBUG="false",
        SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(60)),
        IDENTITY_TENANT_NAME=TENANT, IDENTITY_BASE_URL=f"https://{HOST}:{port}",
        ALLOWED_HOSTS="localhost,127.0.0.1", SECURE_SSL_REDIRECT="false",
        DATABASE_URL=f"sqlite:///{db_path}", LOG_LEVEL="WARNING",
    )
    return env


def _answers(port: int, ca_file: Path) -> bool:
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with context.wrap_socket(raw, server_hostname=HOST) as tls:
                tls.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
                return tls.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


@contextmanager
def tls_trustframe(
    directory: Path, *, workers: int = 2, timeout: float = 60, server: str = "gunicorn",
    extra_env: dict[str, str] | None = None,
) -> Iterator[TlsServer]:
    """Migrate a fresh SQLite file, create the demo tenant, serve it over TLS with gunicorn (sync workers)
    or granian (the production choice: 2 threads per worker); kill the group at the end."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_file, cert_file, key_file = make_certificates(directory)
    port = free_port()
    db_path = directory / "trustframe.sqlite3"
    env = server_env(port, db_path) | (extra_env or {})
    manage(env, "migrate", "--no-input")
    # demotenant refuses outside DEBUG (it prints credentials); the server itself runs as in production.
    out = manage(env | {"DEBUG": "true"}, "demotenant", "--credentials-file", str(directory / "demo.json"), "--json")
    demo = json.loads(out)
    assert demo.get("created") is True, demo
    server = TlsServer(port=port, ca_file=ca_file, db_path=db_path, log_path=directory / "gunicorn.log", demo=demo,
                       env=env)
    with open(server.log_path, "wb") as log:
        command = (
            [granian_path(), "--interface", "wsgi", "--workers", str(workers), "--blocking-threads", "2",
             "--host", "127.0.0.1", "--port", str(port), "--no-ws", "--ssl-certificate", str(cert_file),
             "--ssl-keyfile", str(key_file), "identity.wsgi:application"]
            if server == "granian" else
            [gunicorn_path(), "identity.wsgi", "-w", str(workers), "-b", f"127.0.0.1:{port}",
             "--certfile", str(cert_file), "--keyfile", str(key_file)]
        )
        process = subprocess.Popen(
            command,
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        wait_until_answering(process, lambda: _answers(port, ca_file), timeout=timeout,
                             log_tail=server.log_tail, what=" over TLS")
        yield server
    finally:
        stop_process_group(process)


def session_for(server: TlsServer) -> requests.Session:
    """A requests session that trusts the test CA and nothing else."""
    session = requests.Session()
    session.verify = str(server.ca_file)
    session.trust_env = False  # else REQUESTS_CA_BUNDLE silently overrides `verify`
    return session


def client_credentials(server: TlsServer, http: requests.Session, client_id: str, secret: str,
                       policy: str = "B2C_1_ROPC_Auth") -> requests.Response:
    """A client-credentials token request (HTTP Basic) for the demo API's `.default` scope."""
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return http.post(f"{server.authority(policy)}/oauth2/v2.0/token", timeout=10,
                     headers={"Authorization": f"Basic {basic}"},
                     data={"grant_type": "client_credentials", "scope": f"{server.demo['api_app_id_uri']}/.default"})
