"""WSGI entry point: `granian --interface wsgi identity.wsgi:application` (or `gunicorn identity.wsgi`)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "identity.settings")
django_application = get_wsgi_application()

from identity.protocol_wsgi import ProtocolWSGIApplication  # noqa: E402 (needs the settings loaded)

# The token, revocation and introspection endpoints are answered in front of Django's handler
# (identity/protocol_wsgi.py); everything else is Django's.
application = ProtocolWSGIApplication(django_application)

# Everything loaded so far (Django, the apps, the URL map) lives as long as the process: moved out of
# the collector's sight, full collections stop scanning it, which shows in the token endpoint's p99.
gc.freeze()
