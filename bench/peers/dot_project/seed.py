"""Seed the DOT peer: a confidential client-credentials app, a public password-grant app and a user.

Run with DJANGO_SETTINGS_MODULE=dot_project.settings from this directory; prints JSON on stdout.
Secrets are generated here, so the plaintext is known before DOT hashes it on save (its default).
"""

import json
import secrets

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from oauth2_provider.models import get_application_model  # noqa: E402

Application = get_application_model()
User = get_user_model()

password = "Bench-" + secrets.token_urlsafe(12)
user, _ = User.objects.get_or_create(username="bench")
user.set_password(password)  # Django's default hasher: PBKDF2-SHA256
user.save()

cc_secret = secrets.token_urlsafe(48)
cc = Application.objects.create(
    name="bench daemon", client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, client_secret=cc_secret,
)
ropc = Application.objects.create(
    name="bench native", client_type=Application.CLIENT_PUBLIC,
    authorization_grant_type=Application.GRANT_PASSWORD, client_secret="",
)
print(json.dumps({
    "cc_client_id": cc.client_id, "cc_client_secret": cc_secret,
    "ropc_client_id": ropc.client_id, "username": user.username, "password": password,
    "secret_stored_as": cc.client_secret.split("$")[0],
}))
