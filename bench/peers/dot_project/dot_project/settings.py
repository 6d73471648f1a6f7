"""django-oauth-toolkit "as it ships": the settings `django-admin startproject` writes, plus DOT as its
tutorial installs it. No OAUTH2_PROVIDER dict, so every DOT default applies: opaque random tokens,
client secrets hashed with Django's default hasher (PBKDF2-SHA256, 1,000,000 iterations in Django 5.2),
ROTATE_REFRESH_TOKEN=True, no OIDC. PASSWORD_HASHERS is Django's default (PBKDF2 first).

Deviations from startproject, all deployment rather than DOT behaviour: PostgreSQL from DOT_DATABASE_URL,
DEBUG off, ALLOWED_HOSTS for 127.0.0.1, and persistent database connections (CONN_MAX_AGE, default 60,
the value Trustframe uses) so both servers pay the same connection cost. Set DOT_CONN_MAX_AGE=0 for
Django's own default (a new connection per request).
"""

import os
from urllib.parse import urlsplit

SECRET_KEY = os.environ.get("DOT_SECRET_KEY", "bench-only-dot-peer-secret-key-not-for-production-0123456789")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "dot_project.urls"
WSGI_APPLICATION = "dot_project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

_db = urlsplit(os.environ.get("DOT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dot_bench"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db.path.lstrip("/"),
        "USER": _db.username or "postgres",
        "PASSWORD": _db.password or "",
        "HOST": _db.hostname or "127.0.0.1",
        "PORT": str(_db.port or 5432),
        "CONN_MAX_AGE": int(os.environ.get("DOT_CONN_MAX_AGE", "60")),
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/admin/login/"
