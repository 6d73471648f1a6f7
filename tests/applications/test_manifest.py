"""Pasting an Azure manifest's appRoles (SPEC §6): validated first, then written all at once."""

import json
import re
import uuid

import pytest
from django.core.exceptions import ValidationError

from applications import services
from applications.manifest import parse_app_roles
from tests.conftest import ACTOR

# The manifest fragment of the B2C client-credentials seed, verbatim.
SEED_FRAGMENT = """"appRoles": [ { "allowedMemberTypes": ["Application"], "displayName": "Read",
"id": "d6a15e20-f83c-4264-8e61-5082688e14c8", "isEnabled": true, "description": "Readers have the ability to read
tasks.", "value": "app.read" }, { "allowedMemberTypes": ["Application"], "displayName": "Write",
"id": "204dc4ab-51e1-439f-8c7f-31a1ebf3c7b9", "isEnabled": true, "description": "Writers have the ability to create
tasks.", "value": "app.write" }],"""


ROLE_ID = "5b1f8cf4-6f6b-4a3e-9a57-2c8b4ad4a0a1"


def _role(**overrides) -> dict:
    role = {"allowedMemberTypes": ["Application"], "displayName": "Read", "id": str(uuid.uuid4()),
            "isEnabled": True, "description": "", "value": "app.read"}
    return role | overrides


def test_the_seed_manifest_fragment_parses():
    specs = parse_app_roles(SEED_FRAGMENT.replace("\n", " "))
    assert [(str(s.role_id), s.value, s.member_types) for s in specs] == [
        ("d6a15e20-f83c-4264-8e61-5082688e14c8", "app.read", ("Application",)),
        ("204dc4ab-51e1-439f-8c7f-31a1ebf3c7b9", "app.write", ("Application",)),
    ]


@pytest.mark.parametrize(
    ("roles", "message"),
    [
        ([_role(id="not-a-guid")], r"^appRoles\[0\] \('app\.read'\): id must be a GUID such as \"[0-9a-f-]{36}\" "
                                   r"\(got 'not-a-guid'\)\.$"),
        ([_role(id=42)], r"^appRoles\[0\] \('app\.read'\): id must be a GUID .*\(got 42\)"),
        ([_role(value="app read")], r"^appRoles\[0\] \('app read'\): value must be a non-empty string without spaces"),
        ([_role(allowedMemberTypes=["Robot"])], r"^appRoles\[0\] \('app\.read'\): unknown member type 'Robot'"),
        ([_role(allowedMemberTypes=[])], r"^appRoles\[0\] \('app\.read'\): allowedMemberTypes must list at least one"),
        ([_role(value="a"), _role(value="a")], r"^appRoles\[1\] \('a'\): value 'a' is also the value of appRoles\[0\]"),
        ([_role(id=ROLE_ID), _role(id=ROLE_ID.upper(), value="b")],
         rf"^appRoles\[1\] \('b'\): id '{ROLE_ID}' is also the id of appRoles\[0\]"),
        ([_role(), _role(isEnabled="yes", value="app.write")], r"^appRoles\[1\] \('app\.write'\): isEnabled must be"),
        ([_role(displayName=7)], r"^appRoles\[0\] \('app\.read'\): displayName must be a string"),
        ([_role(), "app.read"], r"^appRoles\[1\]: each app role must be a JSON object .*\(got str \"app\.read\"\)"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason_naming_the_role(roles, message):
    with pytest.raises(ValidationError) as excinfo:
        parse_app_roles(json.dumps({"appRoles": roles}))
    [text] = excinfo.value.messages
    assert re.search(message, text), text


@pytest.mark.parametrize("missing", [{}, {"id": None}, {"id": ""}, {"id": "  "}])
def test_a_role_without_an_id_is_told_its_id_is_missing(missing):
    role = {k: v for k, v in _role(value="app.write").items() if k != "id"} | missing
    with pytest.raises(ValidationError) as excinfo:
        parse_app_roles(json.dumps([_role(), role]))
    [message] = excinfo.value.messages
    assert message.startswith("appRoles[1] ('app.write'): id is missing; every app role needs a GUID id, e.g. ")
    assert "None" not in message
    suggested = message.split('"id": "')[1].split('"')[0]
    assert uuid.UUID(suggested)  # a GUID the admin can paste


def test_a_role_without_a_value_is_told_its_value_is_missing():
    role = {k: v for k, v in _role().items() if k != "value"}
    with pytest.raises(ValidationError) as excinfo:
        parse_app_roles(json.dumps([role]))
    assert excinfo.value.messages == [
        "appRoles[0]: value is missing; give the role a value without spaces, e.g. app.read."
    ]


def test_invalid_json_says_where():
    with pytest.raises(ValidationError, match="line 1"):
        parse_app_roles('[{"id": }]')


@pytest.mark.django_db
def test_import_creates_then_updates_by_id_and_writes_nothing_on_error(api_app):
    api_app.app_roles.all().delete()
    services.app_roles_import_manifest(application=api_app, actor=ACTOR, manifest=SEED_FRAGMENT.replace("\n", " "))
    assert sorted(api_app.app_roles.values_list("value", flat=True)) == ["app.read", "app.write"]
    # Swapping the two values by id works (no transient uniqueness clash).
    swapped = [_role(id="d6a15e20-f83c-4264-8e61-5082688e14c8", value="app.write"),
               _role(id="204dc4ab-51e1-439f-8c7f-31a1ebf3c7b9", value="app.read")]
    services.app_roles_import_manifest(application=api_app, actor=ACTOR, manifest=json.dumps(swapped))
    read = api_app.app_roles.get(value="app.read")
    assert str(read.role_id) == "204dc4ab-51e1-439f-8c7f-31a1ebf3c7b9"
    before = list(api_app.app_roles.values_list("role_id", "value"))
    with pytest.raises(ValidationError):
        services.app_roles_import_manifest(
            application=api_app, actor=ACTOR, manifest=json.dumps([_role(value="new.one"), _role(id="bad")]))
    assert list(api_app.app_roles.values_list("role_id", "value")) == before


@pytest.mark.django_db
def test_a_value_taken_by_another_role_id_is_refused(api_app):
    existing = api_app.app_roles.get(value="app.read").role_id
    with pytest.raises(ValidationError) as excinfo:
        services.app_roles_import_manifest(
            application=api_app, actor=ACTOR, manifest=json.dumps([_role(value="new.one"), _role()]))
    assert excinfo.value.messages == [
        f"appRoles[1] ('app.read'): 'Tasks API' already has an app role 'app.read' with another id ({existing}); "
        "give that id to update it, or choose another value."
    ]
