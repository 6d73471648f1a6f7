"""A new client secret, shown once after a redirect (post/redirect/get; issue 17 item 3).

The page that creates a secret redirects to the page that shows it, so reloading either never makes
another secret. The value crosses the redirect in the admin's session, encrypted with a key derived
from IDENTITY_KEY_SECRET (the session store holds only ciphertext), and is removed from the session
by the first page that shows it: reloading that page says it was shown once.
"""

from cryptography.fernet import InvalidToken
from django.http import HttpRequest

from applications.models import ClientSecret
from identity.keys.crypto import fernet_for

SESSION_KEY = "trustframe.new_client_secret"
_INFO = b"trustframe client-secret handoff v1"


def secret_hand_over(request: HttpRequest, secret: ClientSecret, value: str) -> None:
    token = fernet_for(_INFO).encrypt(value.encode()).decode("ascii")
    request.session[SESSION_KEY] = {"secret_id": str(secret.key_id), "value": token}


def secret_take(request: HttpRequest, secret: ClientSecret) -> str | None:
    """The value of this new secret, once; None when it was shown already (or never handed over here)."""
    data = request.session.get(SESSION_KEY)
    if not isinstance(data, dict) or data.get("secret_id") != str(secret.key_id):
        return None
    del request.session[SESSION_KEY]
    try:
        return fernet_for(_INFO).decrypt(data["value"].encode("ascii")).decode()
    except (InvalidToken, KeyError, AttributeError):
        return None
