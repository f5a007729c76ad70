"""Every failed sign-in ends here: one log line, the site adapter's ``on_authentication_error`` hook, a clear page.

The exceptions are mwsso's (``mwsso.exceptions``: a fixed, user-safe ``user_message`` each), so the
page says what the social-auth side says for the same failure. As for any allauth provider, a site's
``SOCIALACCOUNT_ADAPTER`` may answer instead by raising ``ImmediateHttpResponse`` from
``on_authentication_error``; a cancel goes to allauth's own "login cancelled" page.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.base.constants import AuthError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from social_core.exceptions import AuthCanceled

from mwsso.exceptions import LoginError, LoginRefused

logger = logging.getLogger("mwsso.login")

ERROR_TEMPLATE = "mwsso/allauth/login_error.html"


def auth_error_code(err: Exception) -> str:
    """allauth's name for the kind of failure (what ``on_authentication_error`` receives as ``error``)."""
    # allauth has no type information: its constants are str.
    if isinstance(err, AuthCanceled):
        return cast(str, AuthError.CANCELLED)
    if isinstance(err, LoginRefused):
        return cast(str, AuthError.DENIED)
    return cast(str, AuthError.UNKNOWN)


def render_error(request: HttpRequest, provider: Any, err: LoginError | AuthCanceled, *, step: str) -> HttpResponse:
    """Log what failed (never a secret: mwsso's exceptions carry none), then the hook, then the page."""
    refused = isinstance(err, LoginRefused)
    code = getattr(err, "code_name", "auth_canceled")
    detail = getattr(err, "detail", "")
    # A refusal is the site's policy working as configured, a cancel the person's choice: not faults.
    log = logger.info if refused or isinstance(err, AuthCanceled) else logger.warning
    log("allauth sign-in %s failed: %s [%s] %s", step, code, getattr(err, "reason", code), detail)
    error = auth_error_code(err)
    context: dict[str, Any] = {"provider": provider, "error_code": code}
    try:
        get_adapter(request).on_authentication_error(
            request, provider, error=error, exception=err, extra_context=context
        )
    except ImmediateHttpResponse as answer:
        return cast(HttpResponse, answer.response)  # allauth is untyped: the hook's response
    if isinstance(err, AuthCanceled):  # (error is AuthError.CANCELLED)
        return HttpResponseRedirect(reverse("socialaccount_login_cancelled"))
    context.update(
        message=err.user_message,
        refusal=err.reason if refused else "",
        wiki_message=getattr(err, "wiki_message", ""),
        hint=err.retry_hint,
        retry=provider is not None and (bool(err.retry_hint) or refused),
        reason=err.reason,
    )
    return render(request, ERROR_TEMPLATE, context, status=err.http_status)
