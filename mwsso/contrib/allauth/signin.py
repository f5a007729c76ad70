"""After the wiki has answered: the access policy, allauth's own flow, and the token into mwsso's encrypted store.

1. mwsso's access policy (``MWSSO_BLOCKED_USERS`` and the other rules, ``MWSSO_ELIGIBILITY_CHECK``)
   refuses before allauth sees the login, exactly as on the social-auth side; a browser signed in as
   the refused wiki account is signed out.
2. allauth's flow runs as for any provider (login, signup, connect; the site adapter's hooks; the
   guard in ``guards``) in one transaction with step 3, so a failure leaves nothing half-written. No
   request to the wiki is made inside it.
3. The user linked to the wiki account (signed in as it, or just created) gets the identity and the
   encrypted tokens, their plain ``SocialToken`` copies are deleted, mapped groups follow the wiki's
   (``MWSSO_GROUP_MAP``, ``MWSSO_STAFF_GROUPS``, ``MWSSO_SUPERUSER_GROUPS``) and ``identity_refreshed``
   is sent. When allauth asks for its signup form first, the sign-in waits encrypted in the session
   (``pending``) until the form creates the user.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.socialaccount.helpers import complete_social_login
from allauth.socialaccount.models import SocialAccount, SocialToken
from django.contrib.auth import logout
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from mwsso import policy, signals
from mwsso.contrib.allauth import pending
from mwsso.contrib.allauth.errors import render_error
from mwsso.contrib.allauth.handshake import WikiSignIn
from mwsso.exceptions import LoginError, LoginRefused
from mwsso.policy import rules
from mwsso.tokens.storing import save_identity, save_oauth2_token

logger = logging.getLogger("mwsso.login")

# allauth's session key for a social login waiting for its signup form (allauth.socialaccount.internal.flows.signup).
PENDING_SIGNUP_KEY = "socialaccount_sociallogin"


def complete(request: HttpRequest, provider: Any, signin: WikiSignIn) -> HttpResponse:
    """Refuse by policy, or hand the login to allauth and keep the token for whoever it links to the wiki account."""
    refused = _refused(request, provider, signin)
    if refused is not None:
        return render_error(request, provider, refused, step="complete")
    for attempt in (1, 2):
        login = provider.sociallogin_from_response(request, signin.identity.as_json())
        login.state = signin.state
        login.token = None  # allauth never holds the tokens: nothing can reach SocialToken, whatever STORE_TOKENS says
        started = timezone.now()
        try:
            with transaction.atomic():
                response: HttpResponse = complete_social_login(request, login)  # allauth is untyped
                _keep_for_linked_user(request, provider, login.account, signin, started)
            return response
        except IntegrityError as err:
            # Another sign-in of the same new wiki account (a second tab, a double click) created its user
            # first: everything of this one was rolled back, and a second pass signs in as that user.
            logger.info(
                "sign-in of wiki user %s raced another (%s); attempt %d",
                signin.identity.sub,
                type(err).__name__,
                attempt,
            )
    failed = LoginError(
        None, "two sign-ins of a new wiki account raced twice", reason="user_not_created", stage="pipeline"
    )
    return render_error(request, provider, failed, step="complete")


def store(user: Any, account: Any, signin: WikiSignIn, *, sender: type, created: bool) -> None:
    """Everything a sign-in keeps for ``user``, the owner of the wiki account ``account``."""
    identity = signin.identity
    save_identity(user, identity)
    save_oauth2_token(user, identity, signin.tokens, wiki_url=signin.wiki_url, client_id=signin.client_id)
    # Plain copies left by allauth's own MediaWiki provider: the encrypted token replaces them.
    SocialToken.objects.filter(account=account).delete()
    policy.sync_groups(user, identity)
    signals.identity_refreshed.send(sender=sender, user=user, identity=identity, created=created)
    logger.info(
        "wiki user %s (%s) signed in through django-allauth as user %s", identity.sub, identity.username, user.pk
    )


def _keep_for_linked_user(request: HttpRequest, provider: Any, account: Any, signin: WikiSignIn, started: Any) -> None:
    linked = SocialAccount.objects.select_related("user").filter(provider=account.provider, uid=account.uid).first()
    if linked is None:
        if PENDING_SIGNUP_KEY in request.session:
            pending.stash(request, account.uid, signin)
        return
    created = linked.date_joined >= started
    signed_in_as_it = request.user.is_authenticated and request.user.pk == linked.user_id
    # Just created: signed up, maybe not signed in yet (a mandatory e-mail verification comes first).
    # Anything else (an inactive user, a refused connect) keeps the stored token as it was.
    if signed_in_as_it or created:
        store(linked.user, linked, signin, sender=type(provider), created=created)


def _refused(request: HttpRequest, provider: Any, signin: WikiSignIn) -> LoginRefused | None:
    identity = signin.identity
    found = policy.denials(identity)
    if not found:
        return None
    reason = rules.denial_message(found)
    signals.login_refused.send(sender=type(provider), identity=identity, reason=reason)
    user = request.user
    if (
        user.is_authenticated
        and SocialAccount.objects.filter(user=user, provider=provider.id, uid=identity.sub).exists()
    ):
        # Signed in as the wiki account just refused (e.g. blocked since): not any more.
        logout(request)
        logger.info("signed out user %s: wiki user %s was refused at sign-in", user.pk, identity.sub)
    codes = ", ".join(refusal.rule for refusal in found)
    return LoginRefused(
        None, f"unmet rules: {codes} (wiki user {identity.sub} on {identity.issuer})", reason=reason, stage="pipeline"
    )
