"""Running SPEC §7 commands in-process, and counting rows to prove a failed command wrote nothing."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from applications.models import (
    Application,
    AppRole,
    ClientSecret,
    ConsentGrant,
    DelegatedScope,
    RedirectUri,
    RequiredPermission,
)
from audit.models import AuditEvent
from identity.keys.models import SigningKey
from policies.models import Policy, PolicyOutputClaim

MODELS = (
    User, Application, RedirectUri, ClientSecret, AppRole, DelegatedScope, RequiredPermission, ConsentGrant,
    Policy, PolicyOutputClaim, SigningKey, AuditEvent,
)


class Run:
    def __call__(self, name: str, *args: str, stdin: str | None = None) -> str:
        """Human output of a successful command."""
        out, err = StringIO(), StringIO()
        extra = {"stdin": StringIO(stdin)} if stdin is not None else {}
        call_command(name, *args, stdout=out, stderr=err, **extra)
        assert err.getvalue() == ""
        return out.getvalue()

    def json(self, name: str, *args: str, stdin: str | None = None) -> dict:
        """--json output of a successful command: exactly one JSON object."""
        data = json.loads(self(name, *args, "--json", stdin=stdin))
        assert isinstance(data, dict)
        return data

    def fails(self, name: str, *args: str, stdin: str | None = None) -> str:
        """The one-line message of a command that must fail, after checking it wrote nothing."""
        before = snapshot()
        out = StringIO()
        extra = {"stdin": StringIO(stdin)} if stdin is not None else {}
        with pytest.raises(CommandError) as excinfo:
            call_command(name, *args, stdout=out, stderr=StringIO(), **extra)
        assert out.getvalue() == ""
        assert snapshot() == before, "a failed command changed the database"
        message = str(excinfo.value)
        assert message and "\n" not in message
        return message


def snapshot() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in MODELS}


@pytest.fixture
def run(db) -> Run:
    return Run()
