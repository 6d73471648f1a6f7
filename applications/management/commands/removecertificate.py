"""`manage.py removecertificate CLIENT_ID CERT_ID [--json]`: remove a certificate credential; assertions
signed with its key stop working within DIRECTORY_CACHE_SECONDS."""

from typing import Any

from django.core.management.base import CommandParser

from applications.certificates import client_certificate_get, client_certificate_remove
from applications.selectors import application_get
from identity.management.base import Output, TrustframeCommand


class Command(TrustframeCommand):
    help = "Remove a certificate from an app, by its certificate id or thumbprint."

    def add_command_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", metavar="CLIENT_ID", help="Client id or Application ID URI.")
        parser.add_argument("certificate", metavar="CERT_ID", help="Certificate id, or SHA-1 / SHA-256 thumbprint.")

    def run(self, **options: Any) -> Output:
        app = application_get(options["client_id"])
        cert = client_certificate_get(application=app, identifier=options["certificate"])
        client_certificate_remove(certificate=cert, actor=self.actor)
        return Output(
            {"client_id": app.client_id, "certificate_id": str(cert.key_id), "thumbprint": cert.thumbprint_sha1,
             "removed": True},
            [f"Removed certificate {cert.thumbprint_sha1} ({cert.key_id}) from {app.name} ({app.client_id})."],
        )
