"""The client's address (for sign-in events, rate limits): X-Forwarded-For only behind trusted proxies.

With TRUSTED_PROXY_COUNT = n, the n-th address from the right of X-Forwarded-For is the one the
first trusted proxy saw; anything left of it was written by the client and is not believed.
"""

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            return forwarded[-count][:45]
    return request.META.get("REMOTE_ADDR")
