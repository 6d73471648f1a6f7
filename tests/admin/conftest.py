"""Fixtures of the admin tests: a signed-in superuser and a helper that re-posts a change form."""

import pytest
from django.forms import CheckboxInput


@pytest.fixture
def admin(client, admin_user):
    """A test client signed in as a superuser (SPEC §6)."""
    client.force_login(admin_user)
    return client


def form_data(response) -> dict:
    """The POST data of an admin add/change page as rendered: main form, inline management forms and rows."""
    data: dict = {}

    def add(form) -> None:
        for name, field in form.fields.items():
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(field.widget, CheckboxInput):
                if value:
                    data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "" if value is None else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        for form in inline.formset.forms:
            add(form)
    return data


def _messages(errors) -> list[str]:
    return [message for messages in errors.values() for message in messages]


def errors_of(response) -> str:
    """Every form error on an admin page, unescaped, as one string (for assertions)."""
    context = response.context or {}
    texts = []
    for key in ("adminform", "form"):
        form = getattr(context.get(key), "form", context.get(key))
        if form is not None and hasattr(form, "errors"):
            texts += _messages(form.errors)
    for inline in context.get("inline_admin_formsets", []):
        texts += [m for errors in inline.formset.errors for m in _messages(errors)]
        texts += list(inline.formset.non_form_errors())
    return " ".join(texts)
