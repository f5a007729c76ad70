"""Login start and completion views: social-auth's, with every failure ending on a friendly page."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME, logout
from django.db import OperationalError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import get_script_prefix
from django.utils import translation
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from social_core.actions import do_complete
from social_core.backends.utils import get_backend
from social_core.exceptions import AuthCanceled, AuthConfigurationError, SocialAuthBaseException
from social_django import views as social_views
from social_django.utils import psa

from mwsso import policy, ratelimit
from mwsso.exceptions import LoginError, LoginRefused, SiteBusy
from mwsso.views import misconfiguration
from mwsso.views.misconfiguration import Misconfiguration

logger = logging.getLogger("mwsso.login")

ERROR_TEMPLATE = "mwsso/login_error.html"
SIGN_IN_PAGE_TEMPLATE = "mwsso/sign_in_page.html"
MISCONFIGURED = _("This site's sign-in is misconfigured; the site's operators have been told.")


def begin(request: HttpRequest, backend: str) -> HttpResponse:
    """POST (CSRF-protected): ask the wiki for a request token and send the browser there. GET: a page with the button."""
    if request.method in ("GET", "HEAD"):
        return sign_in_page(request, backend)
    if (refused := ratelimit.refuse_login_start(request, backend)) is not None:
        return refused
    return _guarded(social_views.auth, request, backend, step="begin")


@never_cache
def sign_in_page(request: HttpRequest, backend: str) -> HttpResponse:
    """A sign-in URL opened as a link (an old ``<a href>`` of a stock site, a bookmark): say why, offer the button.

    A sign-in starts with a POST carrying the CSRF token, so that another site cannot start one in the
    person's name; a GET asks nothing of the wiki and is not counted by the rate limits.
    """
    try:
        get_backend(settings.AUTHENTICATION_BACKENDS, backend)
    except AuthConfigurationError:
        raise Http404("no such sign-in") from None
    next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, require_https=request.is_secure()):
        next_url = ""
    context = {"backend": backend, "next": next_url, "home_url": get_script_prefix()}
    return render(request, SIGN_IN_PAGE_TEMPLATE, context)


def complete(request: HttpRequest, backend: str) -> HttpResponse:
    """Where the wiki sends the browser back: token exchange, identify, pipeline, login.

    The browser ends signed in as the wiki account's own Django user, whoever
    was signed in before (docs/security.md, "Signing in while signed in").
    """
    try:
        return _guarded(_complete_as_wiki_account, request, backend, step="complete")
    except OperationalError as err:
        if not _is_database_locked(err):
            raise
        # SQLite: other sign-ins held the write lock past its timeout; the pipeline's transaction saved nothing.
        # A 503: Django's SessionMiddleware does not save the session on it (that would wait for the same lock).
        return login_error(request, backend, SiteBusy(None, f"database: {err}", stage="pipeline"), step="complete")


_View = Callable[[HttpRequest, str], HttpResponse]
# social-app-django's psa() is unannotated; it wraps a view into one of the same signature (and sets request.backend).
_psa_complete: Callable[[_View], _View] = psa(f"{social_views.NAMESPACE}:complete")


@_psa_complete
def _complete_as_wiki_account(request: HttpRequest, backend: str) -> HttpResponse:
    # Never request.user (social-auth's complete view passes it): the pipeline would rename and link the
    # signed-in user to whatever wiki account this callback is for. Without it, the pipeline finds the
    # user linked to that wiki account or creates one, and _switching_login signs that user in.
    strategy_backend = request.backend  # type: ignore[attr-defined]  # set by psa(), unknown to HttpRequest's type
    response: HttpResponse = do_complete(
        strategy_backend, _switching_login, user=None, redirect_name=REDIRECT_FIELD_NAME, request=request
    )
    return response


def _switching_login(backend: Any, user: Any, social_user: Any) -> None:
    """Sign ``user`` in; a browser signed in as someone else is signed out first (a switch)."""
    request = backend.strategy.request
    current = getattr(request, "user", None)
    if current is not None and current.is_authenticated and current.pk != user.pk:
        logger.info(
            "signed-in user %s signed out: the browser signed in as wiki user %s (user %s)",
            current.pk,
            social_user.uid,
            user.pk,
        )
        # logout (not only login's session flush) so that user_logged_out receivers see the switch.
        logout(request)
    social_views._do_login(backend, user, social_user)


def _is_database_locked(err: OperationalError) -> bool:
    # SQLite's "database is locked" / "database table is locked"; other OperationalErrors are real faults.
    return "is locked" in str(err).lower()


def _guarded(view: Callable[..., HttpResponse], request: HttpRequest, backend: str, *, step: str) -> HttpResponse:
    try:
        return view(request, backend)
    except (SocialAuthBaseException, requests.RequestException) as err:
        # LoginError is one of social-core's; anything else is a bug and should surface as one.
        return login_error(request, backend, err, step=step)


def _ways_on(request: HttpRequest, *, retry: bool, refused: bool) -> dict[str, Any]:
    """Where the error page lets the person go: always home; the sign-in again where another try can help.

    A refusal is about the wiki account, so another account may pass; any other failure with a hint is
    worth a retry. The retry goes back to where the person wanted to go (social-auth checks ``next``).
    """
    retry_label: str | Promise
    if retry:
        retry_label = _("Try again")
    elif refused:
        retry_label = _("Sign in with another account")
    else:
        retry_label = ""
    return {
        # The site's root, under its script prefix (a tool mounted below a path stays in it).
        "home_url": get_script_prefix(),
        "retry_label": retry_label,
        "retry_is_other_account": bool(retry_label) and not retry,
        "next": request.session.get("next", "") if hasattr(request, "session") else "",
    }


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
        message = _("The sign-in was cancelled.") if isinstance(err, AuthCanceled) else LoginError.user_message
        hint = LoginError.retry_hint
    context: dict[str, Any] = {
        "message": message,
        "hint": hint,
        "refusal": refusal,
        "wiki_message": getattr(err, "wiki_message", ""),
        "error_code": code,
        "reason": reason,
        "backend": backend,
        **_ways_on(request, retry=bool(hint), refused=isinstance(err, LoginRefused)),
    }
    misconfigured = misconfiguration.diagnose(err, request)
    if misconfigured is not None:
        _tell_operators(misconfigured, context, f"login {step} failed: {code} [{reason}] {detail}")
    else:
        # A refusal is policy working as configured, not a fault.
        log = logger.info if isinstance(err, LoginRefused) else logger.warning
        log("login %s failed: %s [%s] %s", step, code, reason, detail)
    response = render(request, ERROR_TEMPLATE, context, status=status)
    _keep_used_up_handshake(request, err, status)
    return response


def _tell_operators(misconfigured: Misconfiguration, context: dict[str, Any], failure: str) -> None:
    """The site's own set-up is wrong: an ERROR line with the fix, no retry for the person, the fix on the page in DEBUG."""
    with translation.override(None):  # the log in English, whatever the person's language
        problem, fix = misconfigured.describe()
    logger.error("%s -- this site is misconfigured: %s Fix: %s", failure, problem, fix)
    problem, fix = misconfigured.describe()
    context.update(
        message=MISCONFIGURED,
        hint="",
        retry_label="",
        retry_is_other_account=False,
        # The wiki's words and the fix are for the site's developer, not for the person signing in.
        wiki_message=context["wiki_message"] if settings.DEBUG else "",
        misconfiguration={"problem": problem, "fix": fix} if settings.DEBUG else None,
    )


def _keep_used_up_handshake(request: HttpRequest, err: Exception, status: int) -> None:
    """Save the session of a failed callback, which used up its pending handshake, even under a 5xx status.

    Django's SessionMiddleware saves nothing on a 5xx response; a wiki that refused the token exchange
    (a tampered ``oauth_verifier``) would otherwise leave the request token usable for another callback.
    Not on ``SiteBusy``: saving would wait for the very database lock that failed the sign-in.
    """
    session = getattr(request, "session", None)
    if status >= 500 and session is not None and session.modified and not isinstance(err, SiteBusy):
        session.save()
