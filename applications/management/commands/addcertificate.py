"""`manage.py addcertificate CLIENT_ID FILE [--description D] [--json]`: register a public certificate
whose private key the client signs its assertions with (private_key_jwt, as Entra's certificate credentials)."""

from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandParser

from applications.certificates import MAX_CERTIFICATE_BYTES, client_certificate_add
from applications.models import ClientCertificate
from applications.selectors import application_get
from identity.management.base import Output, TrustframeCommand, iso


class Command(TrustframeCommand):
    help = "Add a public certificate (PEM or DER: .cer, .crt, .pem) to a confidential app, for private_key_jwt."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="Client id or Application ID URI.")
        parser.add_argument("file", metavar="FILE", help="The public certificate; never the private key.")
        parser.add_argument("--description", default="")

    def run(self, **options: Any) -> Output:
        app = application_get(options["client_id"])
        cert = client_certificate_add(application=app, certificate=_read(options["file"]), actor=self.actor,
                                      description=options["description"])
        return Output({"client_id": app.client_id, **certificate_json(cert)}, [
            f"Certificate added to {app.name} ({app.client_id}):",
            f"certificate id: {cert.key_id}",
            f"thumbprint (SHA-1): {cert.thumbprint_sha1}",
            f"subject: {cert.subject}, valid {iso(cert.not_before)} to {iso(cert.not_after)}",
        ])


def _read(name: str) -> bytes:
    path = Path(name)
    try:
        if path.stat().st_size > MAX_CERTIFICATE_BYTES:
            raise ValidationError(f"{name} is larger than {MAX_CERTIFICATE_BYTES // 1024} KiB: not a certificate.")
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Cannot read {name}: {exc.strerror or exc}.") from None


def certificate_json(cert: ClientCertificate) -> dict:
    return {
        "certificate_id": str(cert.key_id),
        "description": cert.description,
        "thumbprint": cert.thumbprint_sha1,
        "thumbprint_sha256": cert.thumbprint_sha256,
        "subject": cert.subject,
        "not_before": iso(cert.not_before),
        "not_after": iso(cert.not_after),
    }
