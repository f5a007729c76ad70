"""The demo site's pages: home (sign in), profile (identity, token, live API call, sandbox edit)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

import mwsso
from mwsso.models import AccessToken
from project import wiki


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("profile")
    return render(request, "home.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    # First: the live API call may change the token's status and last_used shown below.
    live = wiki.profile_context(request)
    identity = mwsso.identity_for(request.user)
    token = AccessToken.objects.filter(user=request.user).order_by("-updated").first()
    # "Sign in again" uses the protocol the user signed in with (OAuth 2.0 tokens need the OAuth 2.0 backend).
    backend = "mediawiki-oauth2" if token is not None and token.oauth_version == 2 else "mediawiki"
    context = {"identity": identity, "token": token, "sign_in_backend": backend, **live}
    return render(request, "profile.html", context)


@login_required
@require_POST
def sandbox_edit(request: HttpRequest) -> HttpResponse:
    """Edit the user's sandbox page on the wiki through ``mwsso.api``; the profile page shows the outcome."""
    form = wiki.SandboxForm(request.POST)
    if form.is_valid():
        result = wiki.edit_sandbox(request.user, form.cleaned_data["text"])
    else:
        result = {"error": "Please write some text (at most 2000 characters)."}
    # Post/redirect/get: a reload of the profile page must not edit the wiki again.
    request.session[wiki.SANDBOX_SESSION_KEY] = result
    return redirect("profile")
