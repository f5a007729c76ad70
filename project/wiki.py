"""The demo profile page's live wiki data: userinfo through ``mwsso.api`` and a sandbox edit.

Every failure becomes a friendly sentence for the page: the error class's fixed
``user_message``, never the wiki's raw text, so no token or secret can reach it.
"""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.http import HttpRequest

import mwsso
from mwsso import api

logger = logging.getLogger("project.wiki")

USERINFO_PROPS = "groups|rights|editcount|blockinfo"
SANDBOX_SUBPAGE = "mwsso sandbox"
SANDBOX_SUMMARY = "Testing the mwsso demo site"
# The result of the last sandbox edit, shown once on the profile page after the redirect.
SANDBOX_SESSION_KEY = "mwsso_demo_sandbox_result"


class SandboxForm(forms.Form):
    text = forms.CharField(
        label="Text for your sandbox page",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        initial="Hello from the mwsso demo site.",
    )


def userinfo_context(user: Any) -> dict[str, Any]:
    """``userinfo`` (the wiki's meta=userinfo for ``user``) or ``userinfo_error`` explaining why not."""
    try:
        data = api.for_user(user).get(action="query", meta="userinfo", uiprop=USERINFO_PROPS)
        userinfo = data["query"]["userinfo"]
        # The template loops over these: anything but a dict of lists would be a 500, not a message.
        if not isinstance(userinfo, dict) or not all(
            isinstance(userinfo.get(k, []), list) for k in ("groups", "rights")
        ):
            raise TypeError("userinfo is not the API's shape")
    except api.APIError as err:
        logger.info("userinfo of user %s failed: %s", user.pk, err)
        return {
            "userinfo": None,
            "userinfo_error": err.user_message,
            "userinfo_sign_in_again": isinstance(err, api.SignInRequired),
        }
    except (KeyError, TypeError):
        return {"userinfo": None, "userinfo_error": api.BadResponse.user_message, "userinfo_sign_in_again": False}
    return {"userinfo": userinfo, "userinfo_error": None, "userinfo_sign_in_again": False}


def sandbox_title(user: Any) -> str | None:
    """``User:<wiki name>/mwsso sandbox``, or None when the user has no wiki identity."""
    identity = mwsso.identity_for(user)
    return f"User:{identity.username}/{SANDBOX_SUBPAGE}" if identity else None


def edit_sandbox(user: Any, text: str) -> dict[str, Any]:
    """Save ``text`` on the user's sandbox page; the result as the profile page shows it (``sandbox_result``)."""
    title = sandbox_title(user)
    if title is None:
        return {"error": str(api.NoToken.user_message), "sign_in_again": True}
    try:
        client = api.for_user(user)
        revid = client.edit(title, text, SANDBOX_SUMMARY)
    except api.APIError as err:
        logger.info("sandbox edit of user %s failed: %s", user.pk, err)
        return {"title": title, "error": str(err.user_message), "sign_in_again": isinstance(err, api.SignInRequired)}
    if revid is None:
        return {"title": title, "revid": None, "nochange": True}
    return {"title": title, "revid": revid, "url": f"{client.index_url}?oldid={revid}"}


def profile_context(request: HttpRequest) -> dict[str, Any]:
    """Everything ``_userinfo.html`` and ``_sandbox.html`` need on the profile page."""
    return {
        **userinfo_context(request.user),
        "sandbox_form": SandboxForm(),
        "sandbox_title": sandbox_title(request.user),
        "sandbox_result": request.session.pop(SANDBOX_SESSION_KEY, None),
    }
