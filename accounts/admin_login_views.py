"""The admin's sign-in pages (issue 18 item 2): password, then the second step, and the two-step setup page.

After a right password the session is not signed in yet. An account with an authenticator gets the
verification step; one without, when ADMIN_REQUIRE_MFA is on, the setup page; only then does Django's
login() run (a new session key), with the session marked verified by django-otp. What happened between the
two steps lives in the session for PENDING_SECONDS, tied to the account's password hash (a password changed
meanwhile ends it), and at most MAX_CODE_FAILURES wrong codes are taken before the password is asked again.
"""

import time
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth import login as auth_login
from django.contrib.auth.views import LoginView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django_otp import login as otp_login

from accounts import admin_mfa
from accounts.admin_login import (
    Refusal,
    admin_sign_in_record,
    admin_sign_in_succeeded,
    quota_wait,
)
from accounts.admin_login_forms import (
    AdminLoginForm,
    VerificationCodeForm,
    rate_limited_text,
)
from accounts.models import AdminAccount
from identity.client_ip import client_ip

PENDING_KEY = "admin_sign_in_pending"
PENDING_SECONDS = 300
MAX_CODE_FAILURES = 5
VERIFY, ENROL = "verify", "enrol"


@dataclass
class Pending:
    """A sign-in whose password was right, waiting for its second step (kept in the session)."""

    account: AdminAccount
    step: str
    next_url: str
    failures: int


def pending_sign_in(request: HttpRequest, step: str) -> Pending | None:
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict) or data.get("step") != step or data.get("expires", 0) < time.time():
        return None
    account = AdminAccount.objects.filter(pk=data.get("account"), is_active=True).first()
    if account is None or account.get_session_auth_hash() != data.get("auth_hash"):
        return None
    return Pending(account, step, data.get("next") or reverse("admin:index"), data.get("failures", 0))


def _start_pending(request: HttpRequest, account: AdminAccount, step: str, next_url: str) -> None:
    request.session.cycle_key()  # a session id planted before the password does not carry on
    request.session[PENDING_KEY] = {
        "account": account.pk, "step": step, "next": next_url, "failures": 0,
        "expires": time.time() + PENDING_SECONDS, "auth_hash": account.get_session_auth_hash(),
    }


def complete_sign_in(request: HttpRequest, account: AdminAccount, device, next_url: str) -> HttpResponse:
    """Every step passed: Django's login (a new session key), django-otp's mark, the sign-in event."""
    request.session.pop(PENDING_KEY, None)
    auth_login(request, account, backend="accounts.backends.AdminAccountBackend")
    if device is not None:
        otp_login(request, device)
    admin_sign_in_succeeded(account=account, ip=client_ip(request))
    return HttpResponseRedirect(next_url)


class AdminLoginView(LoginView):
    """Django's LoginView with our form; a right password leads to the second step when there is one."""

    form_class = AdminLoginForm

    def form_valid(self, form: AdminLoginForm) -> HttpResponse:
        account, next_url = form.get_user(), self.get_success_url()
        if admin_mfa.has_authenticator(account):
            _start_pending(self.request, account, VERIFY, next_url)
            return HttpResponseRedirect(reverse("admin:mfa_verify"))
        if admin_mfa.mfa_required():
            _start_pending(self.request, account, ENROL, next_url)
            return HttpResponseRedirect(reverse("admin:mfa"))
        return complete_sign_in(self.request, account, None, next_url)

    def get_default_redirect_url(self) -> str:
        return reverse("admin:index")

    def form_invalid(self, form: AdminLoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.check is not None and form.check.refusal is Refusal.RATE_LIMITED:
            response.status_code = 429
            response["Retry-After"] = str(form.check.retry_after)
        return response


def login_view(site, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """AdminSite.login with AdminLoginView (Django's builds its LoginView inside the method)."""
    if request.method == "GET" and site.has_permission(request):
        return HttpResponseRedirect(reverse("admin:index", current_app=site.name))
    context = {
        **site.each_context(request), "title": "Log in", "subtitle": None, "app_path": request.get_full_path(),
        "username": request.user.get_username(),
    }
    if REDIRECT_FIELD_NAME not in request.GET and REDIRECT_FIELD_NAME not in request.POST:
        context[REDIRECT_FIELD_NAME] = reverse("admin:index", current_app=site.name)
    context.update(extra_context or {})
    request.current_app = site.name
    return AdminLoginView.as_view(extra_context=context, template_name="admin/login.html")(request)


def _back_to_login(request: HttpRequest, text: str) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    messages.warning(request, text)
    return HttpResponseRedirect(reverse("admin:login"))


def _rate_limited(site, request: HttpRequest, template: str, context: dict, wait: int) -> HttpResponse:
    context["form"].add_error(None, rate_limited_text(wait))
    response = TemplateResponse(request, template, {**site.each_context(request), **context}, status=429)
    response["Retry-After"] = str(wait)
    return response


def verify_view(site, request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a backup code."""
    pending = pending_sign_in(request, VERIFY)
    if pending is None:
        return _back_to_login(request, "Sign in again: the sign-in was not found or took too long.")
    form = VerificationCodeForm(request.POST or None)
    context = {"title": "Two-step verification", "form": form, "account": pending.account}
    template = "admin/mfa/verify.html"
    if request.method == "POST":
        wait = quota_wait(client_ip(request))
        if wait is not None:
            return _rate_limited(site, request, template, context, wait)
        if form.is_valid():
            check = admin_mfa.second_factor_check(account=pending.account, code=form.cleaned_data["code"])
            if check.device is not None:
                return complete_sign_in(request, pending.account, check.device, pending.next_url)
            return _code_refused(site, request, pending, form, context, check)
    return TemplateResponse(request, template, {**site.each_context(request), **context})


def _code_refused(site, request, pending: Pending, form, context: dict, check: admin_mfa.CodeCheck) -> HttpResponse:
    refusal = Refusal.CODE_THROTTLED if check.throttled_until else Refusal.WRONG_CODE
    admin_sign_in_record(sign_in_name=pending.account.username or "", account=pending.account,
                         ip=client_ip(request), refusal=refusal)
    if pending.failures + 1 >= MAX_CODE_FAILURES:
        return _back_to_login(request, "Too many wrong codes: sign in again.")
    request.session[PENDING_KEY] = {**request.session[PENDING_KEY], "failures": pending.failures + 1}
    if check.throttled_until:
        seconds = max(1, int((check.throttled_until - timezone.now()).total_seconds()) + 1)
        form.add_error(None, f"Too many wrong codes. Wait {seconds} seconds, then enter the current code.")
    else:
        form.add_error("code", "That code is not right. Enter the code your app shows now, or a backup code.")
    return TemplateResponse(request, "admin/mfa/verify.html", {**site.each_context(request), **context})
