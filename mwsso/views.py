"""Login start and completion views: social-auth's, with every failure ending on a friendly page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from social_core.exceptions import AuthCanceled, SocialAuthBaseException
from social_django import views as social_views

from mwsso import policy, ratelimit
from mwsso.exceptions import LoginError, LoginRefused

logger = logging.getLogger("mwsso.login")

ERROR_TEMPLATE = "mwsso/login_error.html"


def begin(request: HttpRequest, backend: str) -> HttpResponse:
    """POST only (CSRF-protected): ask the wiki for a request token and send the browser there."""
    if (refused := ratelimit.refuse_login_start(request, backend)) is not None:
        return refused
    return _guarded(social_views.auth, request, backend, step="begin")


def complete(request: HttpRequest, backend: str) -> HttpResponse:
    """Where the wiki sends the browser back: token exchange, identify, pipeline, login."""
    return _guarded(social_views.complete, request, backend, step="complete")


def _guarded(view: Callable[..., HttpResponse], request: HttpRequest, backend: str, *, step: str) -> HttpResponse:
    try:
        return view(request, backend)
    except (SocialAuthBaseException, requests.RequestException) as err:
        # LoginError is one of social-core's; anything else is a bug and should surface as one.
        return login_error(request, backend, err, step=step)


def login_error(request: HttpRequest, backend: str, err: Exception, *, step: str) -> HttpResponse:
    """Log one line that says exactly what failed, and show the person what they can do."""
    if isinstance(err, LoginRefused):
        # Outside the pipeline's transaction, so the rollback cannot bring the session back.
        policy.end_refused_session(request, err)
    if isinstance(err, LoginError):
        code, reason, detail = err.code_name, err.reason, err.detail
        status, message, hint = err.http_status, err.user_message, err.retry_hint
        refusal = reason if isinstance(err, LoginRefused) else ""
    else:
        code = getattr(err, "code", type(err).__name__)
        reason, detail, refusal = code, type(err).__name__, ""
        status = 400 if isinstance(err, SocialAuthBaseException) else 502
        message = "The sign-in was cancelled." if isinstance(err, AuthCanceled) else "The sign-in could not be completed."
        hint = "Please try again."
    # A refusal is policy working as configured, not a fault.
    log = logger.info if isinstance(err, LoginRefused) else logger.warning
    log("login %s failed: %s [%s] %s", step, code, reason, detail)
    context: dict[str, Any] = {
        "message": message,
        "hint": hint,
        "refusal": refusal,
        "wiki_message": getattr(err, "wiki_message", ""),
        "error_code": code,
        "reason": reason,
        "backend": backend,
    }
    return render(request, ERROR_TEMPLATE, context, status=status)
