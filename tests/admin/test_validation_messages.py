"""The admin shows the services' rules in the services' words (issue 17, items 7-9), never Django's
constraint text: the App ID URI rule of applications/validators.py, redirect URIs, and sign-in names."""

import pytest
from django.urls import reverse

from accounts.models import User
from applications.forms import RedirectUriInlineForm
from applications.models import Application
from tests.admin.conftest import errors_of, form_data

pytestmark = [pytest.mark.django_db, pytest.mark.spec("SPEC.md", "§6")]

APP_ADD = reverse("admin:applications_application_add")


def app_add_data(admin, **overrides) -> dict:
    data = form_data(admin.get(APP_ADD))
    data.update(name="Orders API", client_type="confidential", **overrides)
    return data


@pytest.mark.parametrize(("uri", "message"), [
    ("notauri", "App ID URI: 'notauri' is not a URI; use the default api://{client id}"),
    ("ftp://x/y", "App ID URI: the scheme must be api:// or https:// (got 'ftp:')"),
    ("http://insecure.example/api", "App ID URI: use https://, not http://"),
    ("https://insecure.example/api", "App ID URI: https URIs must use a verified domain of the tenant "
                                     "(contoso.onmicrosoft.com, login.contoso.test)"),
    ("https://contoso.onmicrosoft.com/api?x=1", "App ID URI: query strings ('?…') are not allowed"),
    ("api://orders", "App ID URI: an api:// URI must contain this app's client id"),
])
def test_the_app_form_shows_the_services_app_id_uri_rule_and_writes_nothing(admin, uri, message):
    response = admin.post(APP_ADD, app_add_data(admin, app_id_uri=uri))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors["app_id_uri"])
    assert "Constraint" not in errors_of(response)
    assert not Application.objects.exists()


def test_the_default_app_id_uri_of_the_client_id_on_the_form_is_accepted(admin):
    data = app_add_data(admin)
    data["app_id_uri"] = f"api://{data['client_id']}"
    response = admin.post(APP_ADD, data)
    assert response.status_code == 302, errors_of(response)
    assert Application.objects.get(name="Orders API").app_id_uri == data["app_id_uri"]


def test_expose_an_api_applies_the_same_rule(admin, daemon_app):
    url = reverse("admin:applications_application_expose_api", args=[daemon_app.pk])
    response = admin.post(url, {"app_id_uri": "http://insecure.example/api"}, follow=True)
    assert "App ID URI: use https://, not http://" in response.content.decode()
    daemon_app.refresh_from_db()
    assert daemon_app.app_id_uri is None
    assert admin.post(url, {"app_id_uri": ""}).status_code == 302  # the proposed default, api://{client id}
    daemon_app.refresh_from_db()
    assert daemon_app.app_id_uri == f"api://{daemon_app.client_id}"


def test_an_app_whose_stored_uri_predates_the_rules_can_still_be_edited(admin, api_app):
    Application.objects.filter(pk=api_app.pk).update(app_id_uri="http://legacy.example/api")
    url = reverse("admin:applications_application_change", args=[api_app.pk])
    data = form_data(admin.get(url))
    data["name"] = "Renamed API"
    response = admin.post(url, data)
    assert response.status_code == 302, errors_of(response)
    assert Application.objects.get(pk=api_app.pk).name == "Renamed API"
    data["app_id_uri"] = "http://legacy.example/other"
    response = admin.post(url, data)
    assert "App ID URI: use https://, not http://" in errors_of(response)


@pytest.mark.parametrize(("rows", "message"), [
    ({"scopes-TOTAL_FORMS": "1", "scopes-0-value": "tasks read", "scopes-0-display_name": "Read"},
     "value must be a non-empty string without spaces, at most 120 characters, e.g. app.read (got 'tasks read')."),
    ({"scopes-TOTAL_FORMS": "2", "scopes-0-value": "tasks.read", "scopes-0-display_name": "Read",
      "scopes-1-value": "tasks.read", "scopes-1-display_name": "Read"},
     "Two rows have the same value; a value must be unique within the app."),
    ({"app_roles-TOTAL_FORMS": "3", "app_roles-2-value": "x.read", "app_roles-2-display_name": "X"},
     "Choose at least one allowed member type (Application, User)."),
    ({"redirect_uri_rows-TOTAL_FORMS": "2", "redirect_uri_rows-0-uri": "myapp://auth",
      "redirect_uri_rows-1-uri": "myapp://auth"}, "Please correct the duplicate data for uri."),
    ({"client_type": "daemon"}, "Select a valid choice. daemon is not one of the available choices."),
])
def test_inline_rows_that_would_break_a_constraint_are_refused_in_words(admin, api_app, rows, message):
    url = reverse("admin:applications_application_change", args=[api_app.pk])
    data = form_data(admin.get(url))
    data.update(rows)
    response = admin.post(url, data)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert "Constraint" not in errors_of(response)
    assert not api_app.scopes.exists() and api_app.app_roles.count() == 2


@pytest.mark.parametrize("uri", ["not a uri", "https://app.contoso.com/cb#fragment"])
def test_the_redirect_uri_row_form_gives_the_services_words(uri):
    """For the app admin's redirect-URI inline (wired with `form = RedirectUriInlineForm`)."""
    form = RedirectUriInlineForm(data={"uri": uri})
    assert not form.is_valid()
    assert form.errors["uri"] == [
        f"Redirect URI '{uri}' is not valid: give an absolute URI with a scheme, e.g. https://app.contoso.com/auth "
        "or msal{client id}://auth, without spaces or a '#' fragment, at most 1024 characters."
    ]


def test_the_user_form_names_the_email_sign_in_name_not_a_command_line_option(admin):
    """Item 8: the admin said "use --email", the command line's wording; both now say the same neutral text."""
    url = reverse("admin:accounts_user_add")
    data = form_data(admin.get(url))
    data.update(username="bob@contoso.test", email="", password1="", password2="")
    response = admin.post(url, data)
    assert response.status_code == 200
    text = errors_of(response)
    assert ("A user name cannot contain '@' (got 'bob@contoso.test'); an email address is the email sign-in name, "
            "so give it there.") in text
    assert "--email" not in text
    assert not User.objects.filter(is_staff=False).exists()
