"""The demo site's pages: home (sign in), profile (identity, token, live API call, sandbox edit)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

import mwsso
from mwsso.models import AccessToken


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("profile")
    return render(request, "home.html")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    identity = mwsso.identity_for(request.user)
    token = AccessToken.objects.filter(user=request.user).order_by("-updated").first()
    return render(request, "profile.html", {"identity": identity, "token": token})
