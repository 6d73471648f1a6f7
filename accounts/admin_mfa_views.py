"""The admin's "Two-step verification" page and the reset of another admin's (issue 18 item 2).

`/admin/two-step/` serves two people: an admin signed in (optional setup, backup codes, status), and one
whose password was just right but who must set up an authenticator before any admin page
(ADMIN_REQUIRE_MFA). Backup codes are shown once, after a redirect, crossing it encrypted in the session
(as new client secrets do: applications/secret_handoff.py).
"""

import json

from cryptography.fernet import InvalidToken
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django_otp import login as otp_login

from accounts import admin_mfa
from accounts.admin_login import quota_wait
from accounts.admin_login_forms import EnrolmentCodeForm, rate_limited_text
from accounts.admin_login_views import ENROL, complete_sign_in, pending_sign_in
from accounts.models import AdminAccount, User
from identity.client_ip import client_ip
from identity.keys.crypto import fernet_for

NEW_CODES_KEY = "trustframe.admin_backup_codes"
_INFO = b"trustframe admin backup-code handoff v1"


def _hand_over(request: HttpRequest, codes: list[str], next_url: str) -> None:
    token = fernet_for(_INFO).encrypt(json.dumps(codes).encode()).decode("ascii")
    request.session[NEW_CODES_KEY] = {"codes": token, "next": next_url}


def _take(request: HttpRequest) -> tuple[list[str], str] | None:
    data = request.session.pop(NEW_CODES_KEY, None)
    try:
        return json.loads(fernet_for(_INFO).decrypt(data["codes"].encode("ascii"))), data["next"]
    except (InvalidToken, KeyError, TypeError, AttributeError, ValueError):
        return None


def two_step_view(site, request: HttpRequest) -> HttpResponse:
    pending = pending_sign_in(request, ENROL)
    if pending is not None:
        account, next_url = pending.account, pending.next_url
    elif site.has_permission(request):
        account, next_url = request.user, reverse("admin:index")
    else:
        return HttpResponseRedirect(f"{reverse('admin:login')}?{urlencode({'next': request.path})}")
    context = {**site.each_context(request), "title": "Two-step verification", "account": account,
               "required": admin_mfa.mfa_required(), "signing_in": pending is not None}
    if request.method == "POST" and request.POST.get("action") == "backup-codes" and pending is None:
        try:
            codes = admin_mfa.backup_codes_renew(account=account, actor=account)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            _hand_over(request, codes, next_url)
        return HttpResponseRedirect(reverse("admin:mfa"))
    if request.method == "GET" and pending is None and (new := _take(request)) is not None:
        context.update(backup_codes=new[0], next_url=new[1])
        return TemplateResponse(request, "admin/mfa/backup_codes.html", context)
    if pending is None and admin_mfa.has_authenticator(account):
        device = admin_mfa.authenticator(account)
        context.update(device=device, backup_codes_left=admin_mfa.backup_codes_left(account))
        return TemplateResponse(request, "admin/mfa/status.html", context)
    return _enrol(site, request, account, pending, context)


def _enrol(site, request: HttpRequest, account: User, pending, context: dict) -> HttpResponse:
    device = admin_mfa.totp_enrolment(account)
    form = EnrolmentCodeForm(request.POST or None)
    context.update(form=form, setup=admin_mfa.totp_setup(device))
    status = 200
    if request.method == "POST":
        wait = quota_wait(client_ip(request))
        if wait is not None:
            form.add_error(None, rate_limited_text(wait))
            status = 429
        elif form.is_valid():
            codes = admin_mfa.totp_confirm(account=account, device=device, code=form.cleaned_data["code"],
                                           actor=account)
            if codes is not None:
                device.refresh_from_db()
                if pending is not None:
                    _hand_over(request, codes, pending.next_url)
                    return complete_sign_in(request, pending.account, device, reverse("admin:mfa"))
                otp_login(request, device)
                _hand_over(request, codes, reverse("admin:index"))
                return HttpResponseRedirect(reverse("admin:mfa"))
            form.add_error("code", "That code is not right. Check that the app shows this account, and type "
                                   "the code it shows now.")
    return TemplateResponse(request, "admin/mfa/enrol.html", context, status=status)


def reset_view(site, request: HttpRequest, account_id: str) -> HttpResponse:
    """"Reset two-step verification" on an administrator's page: asks first, then the audited service."""
    try:
        account = get_object_or_404(AdminAccount, pk=int(account_id))
    except ValueError:
        raise Http404("No such administrator.") from None
    if not request.user.has_perm("accounts.change_adminaccount"):
        raise PermissionDenied
    change_url = reverse("admin:accounts_adminaccount_change", args=[account.pk])
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            removed = admin_mfa.admin_mfa_reset(account=account, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"Two-step verification of {account} reset ({removed} device(s) removed).")
        return HttpResponseRedirect(change_url)
    consequences = [
        "Its authenticator app and backup codes stop working: they are removed.",
        "It signs in with its password, then sets up a new authenticator app"
        + (" before any admin page (two-step verification is required)." if admin_mfa.mfa_required()
           else " if it wants one (two-step verification is not required here)."),
        "The reset is recorded in the audit events.",
    ]
    context = {
        **site.each_context(request), "title": f"Reset two-step verification of {account}",
        "question": f"Reset the two-step verification of {account}?", "consequences": consequences,
        "confirm_label": "Yes, reset", "cancel_url": change_url, "danger": True,
        "opts": AdminAccount._meta, "original": account, "objects": [],
    }
    return TemplateResponse(request, "admin/trustframe/confirm.html", context)

