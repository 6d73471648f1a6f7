"""The rules of an app registration, in words: one function per rule (SPEC §5).

The services call them before writing, so commands, the admin and the management API answer with the
same text; the admin forms call them too, to show the text on the field. Each message says what is wrong
and what to write instead. The database constraints stay looser, as a safety net under these rules.

App ID URIs follow Microsoft Entra's documented restrictions for identifierUris of apps that sign in
B2C users (signInAudience AzureADandPersonalMicrosoftAccount): the secure api:// and https:// patterns
of "Restrictions on identifier URIs of Microsoft Entra applications", https hosts on a verified domain of
the tenant ("HostNameNotOnVerifiedDomain"), no trailing '/', and from "Validation differences by supported
account types": no urn: scheme, no wildcards, query strings or fragments, at most 120 characters. Like
Entra, a URI already stored is not checked again when the app is edited: only one being set.
"""

import ipaddress
import re
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from applications.models import Application
from applications.selectors import uuid_or_none
from identity.tenant import tenant_id, tenant_name

APP_ID_URI_MAX_LENGTH = 120
NAME_MAX_LENGTH = Application._meta.get_field("name").max_length
REDIRECT_URI_MAX_LENGTH = 1024
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_REDIRECT_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s#]+")


def name_validate(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("An application needs a name (its display name, e.g. Tasks API).")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(f"An application name has at most {NAME_MAX_LENGTH} characters (got {len(name)}).")
    return name


def client_id_validate(client_id: str | None, *, application: Application | None = None) -> str:
    """The client id in its normal form (a new UUID when none is given); unique among apps."""
    if client_id is None or not client_id.strip():
        return str(uuid.uuid4())
    try:
        normalized = str(uuid.UUID(client_id.strip()))
    except ValueError:
        raise ValidationError(
            f"Client id must be a UUID such as 8e3af657-a8ff-443c-a75c-2fe8c4bcb635 (got '{client_id}'); "
            "leave it out to get a new one."
        ) from None
    other = Application.objects.filter(client_id=normalized).exclude(pk=getattr(application, "pk", None)).first()
    if other is not None:
        raise ValidationError(f"Client id {normalized} is already used by the app '{other.name}'.")
    return normalized


def client_type_validate(client_type: str) -> str:
    if client_type not in (Application.CLIENT_PUBLIC, Application.CLIENT_CONFIDENTIAL):
        raise ValidationError(
            f"Client type must be '{Application.CLIENT_CONFIDENTIAL}' or '{Application.CLIENT_PUBLIC}' "
            f"(got '{client_type}')."
        )
    return client_type


def redirect_uri_validate(uri: str) -> str:
    uri = (uri or "").strip()
    if not _REDIRECT_URI.fullmatch(uri) or len(uri) > REDIRECT_URI_MAX_LENGTH:
        raise ValidationError(
            f"Redirect URI '{uri}' is not valid: give an absolute URI with a scheme, e.g. "
            f"https://app.contoso.com/auth or msal{{client id}}://auth, without spaces or a '#' fragment, "
            f"at most {REDIRECT_URI_MAX_LENGTH} characters."
        )
    return uri


def verified_domains() -> list[str]:
    """The tenant's verified domains: its name, IDENTITY_BASE_URL's host and IDENTITY_VERIFIED_DOMAINS.

    B2C requires a custom domain to be verified before it can serve the tenant, so the host Trustframe is
    served from counts as one (unless it is an IP address or localhost, which no tenant can verify).
    """
    domains = [tenant_name()]
    host = urlsplit(settings.IDENTITY_BASE_URL).hostname or ""
    if host and host != "localhost" and not _is_ip(host):
        domains.append(host)
    domains += settings.IDENTITY_VERIFIED_DOMAINS
    return list(dict.fromkeys(d.strip().lower().rstrip(".") for d in domains if d.strip()))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def app_id_uri_default(client_id: str) -> str:
    """Entra's default App ID URI, the one its "Set" button proposes."""
    return f"api://{client_id}"


def app_id_uri_validate(
    value: str | None, *, client_id: str, application: Application | None = None
) -> str | None:
    """The App ID URI to store (None for none), or ValidationError naming the rule it breaks.

    `client_id` is the app's (new) client id; `application` the app being edited, if any.
    """
    uri = (value or "").strip()
    if not uri:
        return None
    if application is not None and application.pk is not None:
        stored = Application.objects.filter(pk=application.pk).values_list("app_id_uri", flat=True).first()
        if uri == stored:
            return uri  # kept as it was: Entra checks only the URIs being set
    _app_id_uri_check_shape(uri, client_id)
    other = Application.objects.filter(app_id_uri__iexact=uri).exclude(pk=getattr(application, "pk", None)).first()
    if other is not None:
        raise _uri_error(
            f"'{uri}' is already the App ID URI of '{other.name}' (client id {other.client_id}); App ID URIs "
            "are unique in the tenant, compared case-insensitively."
        )
    return uri


def _uri_error(text: str) -> ValidationError:
    return ValidationError(f"App ID URI: {text}", code="app_id_uri")


def _app_id_uri_check_shape(uri: str, client_id: str) -> None:
    example = f"https://{tenant_name()}/tasks-api"
    default = "api://{client id}"
    if len(uri) > APP_ID_URI_MAX_LENGTH:
        raise _uri_error(f"at most {APP_ID_URI_MAX_LENGTH} characters, as Entra allows (got {len(uri)}).")
    if any(c.isspace() or not c.isprintable() for c in uri):
        raise _uri_error(f"no spaces or control characters; e.g. {default} or {example}.")
    for char, what in (("*", "wildcards ('*')"), ("?", "query strings ('?…')"), ("#", "fragments ('#…')")):
        if char in uri:
            raise _uri_error(f"{what} are not allowed; e.g. {default} or {example}.")
    scheme = _SCHEME.match(uri)
    if scheme is None:
        raise _uri_error(
            f"'{uri}' is not a URI; use the default {default} or https://{{a verified domain}}/{{name}}, "
            f"e.g. {example}."
        )
    name = scheme.group(1).lower()
    if name == "http":
        raise _uri_error(f"use https://, not http:// (Entra accepts only api:// and https://), e.g. {example}.")
    if name not in ("api", "https"):
        raise _uri_error(f"the scheme must be api:// or https:// (got '{scheme.group(1)}:'); e.g. {default}.")
    if not uri[scheme.end():].startswith("//"):
        raise _uri_error(f"write {name}:// with two slashes, e.g. {default} or {example}.")
    if uri.endswith("/"):
        raise _uri_error(f"must not end with '/' (Entra's rule); e.g. {example}, not {example}/.")
    if uri.lower().endswith("/.default"):
        raise _uri_error("must not end with '/.default': clients append that to it when they ask for a token.")
    host, _, path = uri[scheme.end() + 2:].partition("/")
    if not host:
        raise _uri_error(f"nothing after {name}://; e.g. {default} or {example}.")
    if name == "https":
        _check_https(host, path)
    else:
        _check_api(host, path, client_id)


def _domain_of(host: str) -> tuple[str | None, bool]:
    """The verified domain a host is, or is a subdomain of, and whether it is that domain itself."""
    host = host.lower()
    for domain in verified_domains():
        if host == domain:
            return domain, True
        if host.endswith("." + domain):
            return domain, False
    return None, False


def _check_https(host: str, path: str) -> None:
    if "@" in host or ":" in host:
        raise _uri_error(
            f"an https App ID URI names a host only, without a user name or a port; e.g. https://{tenant_name()}/api."
        )
    domain, exact = _domain_of(host)
    if domain is None:
        raise _uri_error(
            f"https URIs must use a verified domain of the tenant ({', '.join(verified_domains())}) or a "
            f"subdomain of one (got '{host}'); e.g. https://{tenant_name()}/api, or the default api://{{client id}}."
        )
    if exact and not path:
        raise _uri_error(
            f"https://{host} alone names the whole domain; add a path (https://{host}/tasks-api) or use a "
            f"subdomain (https://tasks.{host})."
        )


def _check_api(host: str, path: str, client_id: str) -> None:
    tenant = str(tenant_id())
    guid = uuid_or_none(host)
    if guid is not None:
        if guid == client_id.lower():
            return
        if guid == tenant:
            if not path:
                raise _uri_error(
                    f"api://{tenant} alone would claim the whole tenant; add a name (api://{tenant}/tasks-api) "
                    "or use the default api://{client id}."
                )
            return
        raise _uri_error(
            f"a GUID after api:// must be this app's client id or the tenant id ({tenant}); got {guid}. "
            "The default is api://{client id}."
        )
    if _domain_of(host)[0] is not None:
        if not path:
            raise _uri_error(f"add a name after the domain, e.g. api://{host}/tasks-api.")
        return
    if uuid_or_none(path.rsplit("/", 1)[-1]) in (client_id.lower(), tenant):
        return
    raise _uri_error(
        f"an api:// URI must contain this app's client id, the tenant id or a verified domain of the tenant "
        "(Entra's rule against identifiers another tenant could claim); e.g. api://{client id} (the default), "
        f"api://{tenant}/{host} or api://{tenant_name()}/{host}."
    )
