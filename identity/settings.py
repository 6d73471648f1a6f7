"""Trustframe settings: the only module that reads the environment (SPEC §1).

Every variable is listed, with a comment, in `.env.example`. Secrets and public URLs have
defaults only when DEBUG is on, so a misconfigured production start fails loudly.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.FileAwareEnv(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, []),
    CSRF_TRUSTED_ORIGINS=(list, []),
    LOG_LEVEL=(str, "INFO"),
    ARGON2_TIME_COST=(int, 2),
    ARGON2_MEMORY_COST_KIB=(int, 19456),
    ARGON2_PARALLELISM=(int, 1),
    CLIENT_SECRET_DEFAULT_DAYS=(int, 180),
    REFRESH_TOKEN_REUSE_GRACE_SECONDS=(int, 10),
    CLIENT_ASSERTION_SINGLE_USE=(bool, False),
    LOCKOUT_THRESHOLD=(int, 10),
    LOCKOUT_DURATION_SECONDS=(int, 60),
    LOCKOUT_MAX_DURATION_SECONDS=(int, 5 * 3600),
    LOCKOUT_UNFAMILIAR_THRESHOLD=(int, 30),
    LOCKOUT_FAMILIAR_DAYS=(int, 30),
    LOCKOUT_IPV4_PREFIX=(int, 24),
    LOCKOUT_IPV6_PREFIX=(int, 64),
    RATE_LIMIT_CLIENT_PER_SECOND=(int, 200),
    RATE_LIMIT_IP_PER_5_MINUTES=(int, 6000),
    RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES=(int, 30),
    ADMIN_REQUIRE_MFA=(bool, None),
    RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES=(int, 20),
    TRUSTED_PROXY_COUNT=(int, 0),
    PASSWORD_HASH_CONCURRENCY=(int, 1),
    PASSWORD_HASH_WAIT_SECONDS=(float, 2.0),
    TOKEN_REQUEST_MAX_BYTES=(int, 64 * 1024),
    TOKEN_PARAMETER_MAX_LENGTH=(int, 8192),
    DIRECTORY_CACHE_SECONDS=(float, 1.0),
    SIGN_IN_EVENTS_FLUSH_SECONDS=(float, 1.0),
    SIGN_IN_EVENTS_RETENTION_DAYS=(int, 30),
    DATABASE_PREPARED_STATEMENTS=(bool, True),
    SECURE_SSL_REDIRECT=(bool, None),
    SECURE_HSTS_SECONDS=(int, None),
    SECURE_HSTS_INCLUDE_SUBDOMAINS=(bool, True),
    SECURE_HSTS_PRELOAD=(bool, True),
    TRUSTED_PROXY_SSL_HEADER=(bool, False),
    IDENTITY_VERIFIED_DOMAINS=(list, []),
)
if (BASE_DIR / ".env").is_file():
    environ.FileAwareEnv.read_env(BASE_DIR / ".env")

DEBUG = env("DEBUG")


def _required(name: str, development_default: str) -> str:
    """A value production must configure (ImproperlyConfigured names it); DEBUG gets a default.

    An empty value counts as unset, so a copied `.env.example` with blanks fails loudly.
    """
    value = env(name, default="")
    if value:
        return value
    if DEBUG:
        return development_default
    raise ImproperlyConfigured(f"Set the {name} environment variable (see .env.example).")


SECRET_KEY = _required("SECRET_KEY", "dev-insecure-secret-key-do-not-use-in-production")
ALLOWED_HOSTS = env("ALLOWED_HOSTS") or (["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env("CSRF_TRUSTED_ORIGINS")

IDENTITY_TENANT_NAME = _required("IDENTITY_TENANT_NAME", "trustframe.onmicrosoft.com")
IDENTITY_BASE_URL = _required("IDENTITY_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# More verified domains of the tenant for https App ID URIs (https://{domain}/... or a subdomain), besides
# the tenant name and IDENTITY_BASE_URL's host (applications/validators.py).
IDENTITY_VERIFIED_DOMAINS = [d.strip().lower() for d in env("IDENTITY_VERIFIED_DOMAINS") if d.strip()]
# Key material for encrypting signing keys at rest; falls back to SECRET_KEY so a single secret
# suffices, but a separate value lets SECRET_KEY rotate without re-encrypting signing keys.
IDENTITY_KEY_SECRET = env("IDENTITY_KEY_SECRET", default="") or SECRET_KEY
CLIENT_SECRET_DEFAULT_DAYS = env("CLIENT_SECRET_DEFAULT_DAYS")
# A rotated refresh token presented again within this many seconds, while its successor is unused,
# is a client's retry after a lost response; later, it is theft and revokes the family (SPEC §4.2).
REFRESH_TOKEN_REUSE_GRACE_SECONDS = env("REFRESH_TOKEN_REUSE_GRACE_SECONDS")
# Accept each client assertion (private_key_jwt) once only, by its jti, remembered in the cache. Off by
# default as in Entra: MSAL reuses one assertion for every request it makes within 9 minutes.
CLIENT_ASSERTION_SINGLE_USE = env("CLIENT_ASSERTION_SINGLE_USE")

# Smart lockout (SPEC §4.1): after LOCKOUT_THRESHOLD distinct wrong passwords a sign-in name is locked
# for LOCKOUT_DURATION_SECONDS, doubling every 10 lockouts up to LOCKOUT_MAX_DURATION_SECONDS.
LOCKOUT_THRESHOLD = env("LOCKOUT_THRESHOLD")
LOCKOUT_DURATION_SECONDS = env("LOCKOUT_DURATION_SECONDS")
LOCKOUT_MAX_DURATION_SECONDS = env("LOCKOUT_MAX_DURATION_SECONDS")
# Familiar locations (accounts/lockout.py): a network (IPv4 /LOCKOUT_IPV4_PREFIX, IPv6 /LOCKOUT_IPV6_PREFIX)
# from which a name signed in within LOCKOUT_FAMILIAR_DAYS keeps a counter of its own, which attempts
# from elsewhere cannot lock. Every other network has its own counter too (LOCKOUT_THRESHOLD), and
# all of them together share one more: after LOCKOUT_UNFAMILIAR_THRESHOLD distinct wrong passwords from
# unfamiliar networks, every unfamiliar network is locked (a distributed guess gets no more than that).
LOCKOUT_UNFAMILIAR_THRESHOLD = env("LOCKOUT_UNFAMILIAR_THRESHOLD")
LOCKOUT_FAMILIAR_DAYS = env("LOCKOUT_FAMILIAR_DAYS")
LOCKOUT_IPV4_PREFIX = env("LOCKOUT_IPV4_PREFIX")
LOCKOUT_IPV6_PREFIX = env("LOCKOUT_IPV6_PREFIX")
if not (8 <= LOCKOUT_IPV4_PREFIX <= 32 and 16 <= LOCKOUT_IPV6_PREFIX <= 128):
    raise ImproperlyConfigured("LOCKOUT_IPV4_PREFIX must be 8-32 and LOCKOUT_IPV6_PREFIX 16-128.")
# B2C's quotas as defaults; 0 turns a limit off. Counted in the cache (shared through Redis). The client's
# quota counts authenticated clients only, by their registered id; failed client authentications count
# against a budget per (client id, IP) instead, so a stranger's wrong secrets cannot use up the client's.
RATE_LIMIT_CLIENT_PER_SECOND = env("RATE_LIMIT_CLIENT_PER_SECOND")
RATE_LIMIT_IP_PER_5_MINUTES = env("RATE_LIMIT_IP_PER_5_MINUTES")
RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES = env("RATE_LIMIT_CLIENT_AUTH_FAILURES_PER_5_MINUTES")
# The admin login's own quota: password and verification-code attempts per client IP per 5 minutes (0 = off).
RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES = env("RATE_LIMIT_ADMIN_LOGIN_PER_5_MINUTES")
# Admin accounts must pass a second step (TOTP) to reach /admin/; one without an authenticator app is sent
# to enrol first (accounts/admin_mfa.py). On in production, off with DEBUG (so `make run` stays simple).
ADMIN_REQUIRE_MFA = env("ADMIN_REQUIRE_MFA") if env("ADMIN_REQUIRE_MFA") is not None else not DEBUG
# How many proxies in front of us append to X-Forwarded-For; 0 = use the socket's address only.
TRUSTED_PROXY_COUNT = env("TRUSTED_PROXY_COUNT")
# At most this many Argon2 computations at once per process (about 19 MiB each); more wait up to
# PASSWORD_HASH_WAIT_SECONDS, then get 503 with Retry-After. One, for one worker per core: Argon2 is
# bound by memory bandwidth, and more hashes at once than cores only make each one slower (bench/:
# 2 workers x 2 threads on 2 cores, 63-70 sign-ins/s at 4 per process, 75-81/s at 1).
PASSWORD_HASH_CONCURRENCY = env("PASSWORD_HASH_CONCURRENCY")
PASSWORD_HASH_WAIT_SECONDS = env("PASSWORD_HASH_WAIT_SECONDS")
TOKEN_REQUEST_MAX_BYTES = env("TOKEN_REQUEST_MAX_BYTES")
TOKEN_PARAMETER_MAX_LENGTH = env("TOKEN_PARAMETER_MAX_LENGTH")
# Each process caches policies, apps, secret digests, consented roles and signing keys, and looks for
# admin changes at most this often: a removed secret or withdrawn consent takes effect within this many
# seconds everywhere (identity/directory_cache.py). 0 = look on every lookup.
DIRECTORY_CACHE_SECONDS = env("DIRECTORY_CACHE_SECONDS")
# Sign-in events are written in batches this often by a background thread of each process, off the
# token request's path (audit/sign_in_buffer.py); 0 = written during the request.
SIGN_IN_EVENTS_FLUSH_SECONDS = env("SIGN_IN_EVENTS_FLUSH_SECONDS")
# Sign-in events older than this are deleted by `manage.py purgesigninevents` (daily cron; audit/retention.py);
# 0 = kept forever.
SIGN_IN_EVENTS_RETENTION_DAYS = env("SIGN_IN_EVENTS_RETENTION_DAYS")
if SIGN_IN_EVENTS_RETENTION_DAYS < 0:
    raise ImproperlyConfigured("SIGN_IN_EVENTS_RETENTION_DAYS must be 0 (keep forever) or a number of days.")

DATABASES = {"default": env.db_url_config(
    env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'var' / 'trustframe.sqlite3'}"
)}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers take the lock when their transaction begins and wait for it (instead of deadlocking on
    # a read-then-write and failing at once with "database is locked"); WAL lets readers go on.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;",
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a health check that costs no round trip and the refresh-token statements
    # prepared (identity/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "identity.postgresql"
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # A database host that drops packets would hold each request for the OS's connect timeout (minutes)
    # instead of answering 503; `?connect_timeout=N` in DATABASE_URL overrides.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
# False behind a transaction-mode pooler, unless it keeps prepared statements (PgBouncer >= 1.22 with
# max_prepared_statements).
DATABASE_PREPARED_STATEMENTS = env("DATABASE_PREPARED_STATEMENTS")

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    # Short socket timeouts: a stalled Redis must degrade to the database path, not hang requests.
    CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    }}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

INSTALLED_APPS = [
    # Django's admin with Trustframe's name and tenant on it (identity/admin_site.py).
    "identity.admin_site.TrustframeAdminConfig",
    # Before django.contrib.auth: a management command of an app listed earlier wins, and ours of
    # `changepassword` sets the password through the audited service (accounts/management/commands/).
    "accounts",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Two-step verification of admin accounts (accounts/admin_mfa.py): TOTP and backup codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    # Before our apps, so that applications/admin.py can replace DOT's admin registrations.
    "oauth2_provider",
    "identity",
    "applications",
    "policies",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Protocol endpoints (token, JWKS, discovery, ...) leave the chain here: they need nothing below. In
    # production the OAuth POSTs do not enter it at all (identity/protocol_wsgi.py).
    "identity.middleware.ProtocolEndpointMiddleware",
    "identity.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): the session passed the admin's second step (identity/admin_site.py).
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "identity.urls"
WSGI_APPLICATION = "identity.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
# Admin accounts sign in to /admin/; directory users never do (accounts/backends.py).
AUTHENTICATION_BACKENDS = ["accounts.backends.AdminAccountBackend"]
# auth.W004: user names are unique per kind of account (directory users, admin accounts), by two
# conditional constraints Django's check does not recognise; login looks in the admin namespace only.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]

# Argon2id first (SPEC §1), at OWASP's recommended minimum (m=19 MiB, t=2, p=1): about 20 MiB per
# verification keeps a login storm within memory. Changing the parameters rehashes on next sign-in.
ARGON2_TIME_COST = env("ARGON2_TIME_COST")
ARGON2_MEMORY_COST_KIB = env("ARGON2_MEMORY_COST_KIB")
ARGON2_PARALLELISM = env("ARGON2_PARALLELISM")
PASSWORD_HASHERS = [
    "accounts.hashers.Argon2idPasswordHasher",
    # Server-generated client secrets carry ~180 bits of entropy: a salted SHA-256 is enough and
    # costs microseconds, where Argon2 would cost ~20 ms on every client authentication.
    "applications.hashers.ClientSecretHasher",
]
# The name authenticator apps show beside an admin's account (otpauth:// issuer).
OTP_TOTP_ISSUER = f"Trustframe {IDENTITY_TENANT_NAME}"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "accounts.passwords.MaximumLengthValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# Times with seconds and zone everywhere in the admin (identity/formats/en/formats.py).
FORMAT_MODULE_PATH = ["identity.formats"]

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
SECURE_SSL_REDIRECT = env("SECURE_SSL_REDIRECT") if env("SECURE_SSL_REDIRECT") is not None else not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env("SECURE_HSTS_SECONDS") if env("SECURE_HSTS_SECONDS") is not None else (
    0 if DEBUG else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env("SECURE_HSTS_INCLUDE_SUBDOMAINS")
SECURE_HSTS_PRELOAD = env("SECURE_HSTS_PRELOAD")
if env("TRUSTED_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

OAUTH2_PROVIDER_APPLICATION_MODEL = "applications.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "applications.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "applications.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "applications.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "applications.Grant"
OAUTH2_PROVIDER = {
    "OAUTH2_SERVER_CLASS": "identity.oauth.server.IdentityServer",
    "OAUTH2_VALIDATOR_CLASS": "identity.oauth.validator.IdentityValidator",
    "OAUTH2_BACKEND_CLASS": "identity.oauth.backend.IdentityOAuthLibCore",
    "CLIENT_SECRET_HASHER": "client_secret_sha256",
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Refresh tokens at rest are a SHA-256 checksum only (RFC 9700 §4.14; SPEC §4.2).
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "PKCE_REQUIRED": True,
    # RFC 9700 behaviour everywhere DOT 3.x still defaults to the legacy one. The password-grant gate too:
    # DOT's generic ROPC stays off; ours is a per-app capability (SPEC §4.1) decided by our own
    # validate_grant_type, which never consults DOT's gate (so DOT's deprecation warning never fires).
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https"] if not DEBUG else ["http", "https"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A client's mistake (a bad Host header, a body in another charset: Django logs them with a traceback)
    # is one line; server errors keep theirs (identity/logs.py).
    "filters": {"client_error_one_line": {"()": "identity.logs.ClientErrorOneLine"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["client_error_one_line"]}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL")},
    "loggers": {
        # oauthlib logs issued tokens at DEBUG: never let it below INFO.
        "oauthlib": {"level": "INFO"},
        "oauth2_provider": {"level": "INFO"},
    },
}
