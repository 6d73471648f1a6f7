"""Pasting an Azure manifest's appRoles (SPEC §6): validated first, then written all at once."""

import json
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
        ([_role(id="not-a-guid")], "id must be a GUID"),
        ([_role(value="app read")], "without spaces"),
        ([_role(allowedMemberTypes=["Robot"])], "unknown member type 'Robot'"),
        ([_role(allowedMemberTypes=[])], "at least one"),
        ([_role(value="a"), _role(value="a")], "Duplicate app role value"),
        ([_role(isEnabled="yes")], "isEnabled"),
        (["app.read"], "JSON object"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason(roles, message):
    with pytest.raises(ValidationError, match=message):
        parse_app_roles(json.dumps({"appRoles": roles}))


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
    with pytest.raises(ValidationError, match=r"already has an app role 'app\.read' with another id"):
        services.app_roles_import_manifest(application=api_app, actor=ACTOR, manifest=json.dumps([_role()]))
