"""The client's address (for sign-in events, rate limits): X-Forwarded-For only behind trusted proxies.

With TRUSTED_PROXY_COUNT = n, the n-th address from the right of X-Forwarded-For is the one the
first trusted proxy saw; anything left of it was written by the client and is not believed. Proxies
write ports ("1.2.3.4:5678", "[2001:db8::1]:443"); those are stripped, and anything that is not an
IP address falls back to the connection's address.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest


@lru_cache(maxsize=4096)  # parsing an address costs more than the rest of this module; clients repeat
def _address(value: str) -> str | None:
    value = value.strip()
    if value.startswith("["):  # [IPv6]:port
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # IPv4:port
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [a for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            found = _address(forwarded[-count])
            if found is not None:
                return found
    return _address(request.META.get("REMOTE_ADDR", ""))
