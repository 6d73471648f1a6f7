"""`manage.py localtls`: the local CA and server certificate `make run-tls` serves with (development only)."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser

from identity.localtls import local_tls_ensure
from identity.management.base import Output, TrustframeCommand, iso


def _shown(path: Path) -> str:
    """A path as a person would type it from the project directory."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


class Command(TrustframeCommand):
    help = (
        "Make (or reuse, while valid) a local CA and a certificate for localhost, 127.0.0.1 and ::1, for serving "
        "Trustframe over https in development. The CA is never replaced unless --new-ca is given."
    )
    atomic = False  # files only: works before `migrate`, and with the database down

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", type=Path, default=settings.BASE_DIR / "var" / "tls",
                            help="Where the files are kept (default var/tls).")
        parser.add_argument("--new-ca", action="store_true",
                            help="Replace the CA (and the server certificate): clients must trust the new ca.pem.")

    def run(self, **options: Any) -> Output:
        tls = local_tls_ensure(options["dir"], new_ca=options["new_ca"])
        ca, cert, key = _shown(tls.ca_file), _shown(tls.cert_file), _shown(tls.key_file)
        data = {
            "ca_file": ca, "cert_file": cert, "key_file": key, "names": tls.names,
            "ca_created": tls.ca_created, "server_created": tls.server_created,
            "ca_not_after": iso(tls.ca_not_after), "server_not_after": iso(tls.server_not_after),
            "ca_sha256": tls.ca_sha256,
        }
        return Output(data, [
            f"Local CA {ca} ({'created' if tls.ca_created else 'kept'}, valid until {tls.ca_not_after:%Y-%m-%d}, "
            f"SHA-256 {tls.ca_sha256})",
            f"Server certificate {cert} for {', '.join(tls.names)} "
            f"({'created' if tls.server_created else 'kept'}, valid until {tls.server_not_after:%Y-%m-%d}), key {key}",
            f"Clients trust the CA: curl --cacert {ca} …; Python requests: verify=\"{ca}\".",
        ])
