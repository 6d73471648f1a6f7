"""The app admin's credential pages (SPEC §6; issue 17 items 2, 3, 15): client secrets (add, show
once, delete) and certificates (upload, delete).

"New client secret" posts, creates the secret and redirects to its page, which shows the value once
(applications/secret_handoff.py): reloading either page never makes another secret or shows the value
again. Deleting a secret or a certificate asks first, naming it and what will stop authenticating.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from applications import certificates, services
from applications.forms import CertificateUploadForm, ClientSecretForm
from applications.models import Application, ClientCertificate, ClientSecret
from applications.secret_handoff import secret_hand_over, secret_take
from identity.admin import is_confirmed
from identity.admin_display import moment_text, propagation


def secret_or_404(app: Application, key_id: str) -> ClientSecret:
    try:
        secret = app.secrets.filter(key_id=uuid.UUID(key_id)).first()
    except ValueError:
        secret = None
    if secret is None:
        raise Http404(f"'{app.name}' has no client secret {key_id!r}.")
    return secret


def certificate_or_404(app: Application, key_id: str) -> ClientCertificate:
    try:
        return certificates.client_certificate_get(application=app, identifier=key_id)
    except ValidationError:
        raise Http404(f"'{app.name}' has no certificate {key_id!r}.") from None


def public_client_refusal(app: Application, why: str) -> str | None:
    """What the credential pages say instead of a form for a public client, or None for a confidential one."""
    if not app.is_public:
        return None
    return (f"'{app.name}' is a public client; public clients {why}. "
            "Change its client type to Confidential first if it is a server app.")


class SecretPagesMixin:
    """Views of ApplicationAdmin (a ServiceErrorsMixin ModelAdmin) for client secrets and certificates."""

    def secret_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/new-certificate/", view(self.certificate_add_view),
                 name="applications_application_new_certificate"),
            path("<path:object_id>/certificates/<str:key_id>/delete/", view(self.certificate_delete_view),
                 name="applications_application_certificate_delete"),
            path("<path:object_id>/new-secret/", view(self.secret_add_view),
                 name="applications_application_new_secret"),
            path("<path:object_id>/secrets/<str:key_id>/delete/", view(self.secret_delete_view),
                 name="applications_application_secret_delete"),
            path("<path:object_id>/secrets/<str:key_id>/", view(self.secret_created_view),
                 name="applications_application_secret"),
        ]

    def secret_add_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """"New client secret": creates it, then redirects to the page that shows the value once."""
        app = self.get_object_or_denied(request, object_id)
        error = public_client_refusal(app, "cannot keep a secret and do not get one")
        form = ClientSecretForm(request.POST if request.method == "POST" else None) if error is None else None
        if form is not None and request.method == "POST" and form.is_valid():
            try:
                secret, value = services.client_secret_add(
                    application=app, actor=request.user, description=form.cleaned_data["description"],
                    expires_days=form.cleaned_data["expires_days"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                secret_hand_over(request, secret, value)
                return HttpResponseRedirect(
                    reverse("admin:applications_application_secret", args=[app.pk, secret.key_id]))
        context = self.page_context(request, app, "New client secret", form=form, error=error,
                                    submit_label="Add secret")
        return TemplateResponse(request, "admin/applications/application/secret_add.html", context)

    def secret_created_view(self, request: HttpRequest, object_id: str, key_id: str) -> HttpResponse:
        app = self.get_object_or_denied(request, object_id)
        secret = secret_or_404(app, key_id)
        value = secret_take(request, secret)
        title = "Client secret created" if value else "Client secret"
        response = TemplateResponse(request, "admin/applications/application/secret_created.html",
                                    self.page_context(request, app, title, secret=secret, value=value))
        response["Cache-Control"] = "no-store"
        return response

    def secret_delete_view(self, request: HttpRequest, object_id: str, key_id: str) -> HttpResponse:
        app = self.get_object_or_denied(request, object_id)
        secret = secret_or_404(app, key_id)
        change_url = reverse("admin:applications_application_change", args=[app.pk])
        if not is_confirmed(request):
            others = app.secrets.exclude(pk=secret.pk).filter(expires_at__gt=timezone.now()).count()
            return self.confirmation_page(
                request, app, title="Delete client secret", question=f"Delete the client secret “{secret}”?",
                objects=[f"{secret.hint}… {secret.description or '(no description)'}, id {secret.key_id}, "
                         f"expires {moment_text(secret.expires_at)}"],
                consequences=[
                    "The secret is deleted. Every service that authenticates with it gets invalid_client "
                    f"(AADB2C90081) within {propagation()}, on every instance.",
                    f"{app.name} keeps {others} other unexpired secret(s)."
                    + ("" if others else " Without one it cannot authenticate with a secret at all."),
                    "This cannot be undone: a deleted secret cannot be restored, only replaced by a new one.",
                ],
                confirm_label="Yes, delete the secret", cancel_url=change_url,
            )
        services.client_secret_remove(secret=secret, actor=request.user)
        self.message_user(request, f"Deleted the client secret {secret.hint}… of {app.name}.", messages.SUCCESS)
        return HttpResponseRedirect(change_url)

    def certificate_add_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """"Upload certificate": the public certificate whose private key signs the app's assertions."""
        app = self.get_object_or_denied(request, object_id)
        error = public_client_refusal(app, "do not authenticate and get no certificates")
        form = None
        if error is None:
            form = CertificateUploadForm(request.POST if request.method == "POST" else None,
                                         request.FILES if request.method == "POST" else None)
        if form is not None and request.method == "POST" and form.is_valid():
            try:
                cert = certificates.client_certificate_add(
                    application=app, certificate=form.cleaned_data["certificate"].read(),
                    description=form.cleaned_data["description"], actor=request.user,
                )
            except ValidationError as exc:
                form.add_error("certificate", exc)
            else:
                self.message_user(request, f"Uploaded the certificate {cert.thumbprint_sha1} "
                                           f"(expires {moment_text(cert.not_after)}).", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:applications_application_change", args=[app.pk]))
        context = self.page_context(request, app, "Upload certificate", form=form, error=error,
                                    submit_label="Upload", multipart=True)
        return TemplateResponse(request, "admin/applications/application/certificate_add.html", context)

    def certificate_delete_view(self, request: HttpRequest, object_id: str, key_id: str) -> HttpResponse:
        app = self.get_object_or_denied(request, object_id)
        cert = certificate_or_404(app, key_id)
        change_url = reverse("admin:applications_application_change", args=[app.pk])
        if not is_confirmed(request):
            return self.confirmation_page(
                request, app, title="Delete certificate", question=f"Delete the certificate {cert.thumbprint_sha1}?",
                objects=[f"{cert.description or cert.subject or 'certificate'}, thumbprint {cert.thumbprint_sha1}, "
                         f"expires {moment_text(cert.not_after)}"],
                consequences=[
                    "Client assertions signed with this certificate's private key are refused (invalid_client) "
                    f"within {propagation()}, on every instance.",
                    "This cannot be undone here: upload the certificate again to accept its key again.",
                ],
                confirm_label="Yes, delete the certificate", cancel_url=change_url,
            )
        certificates.client_certificate_remove(certificate=cert, actor=request.user)
        self.message_user(request, f"Deleted the certificate {cert.thumbprint_sha1} of {app.name}.", messages.SUCCESS)
        return HttpResponseRedirect(change_url)
