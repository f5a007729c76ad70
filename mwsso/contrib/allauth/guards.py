"""Signal receivers (connected in ``MwssoAllauthConfig.ready``): who a wiki account may be linked to, and when.

- ``refuse_second_wiki_account`` (allauth's ``pre_social_login``): a wiki account is linked only to a
  user without another account on that wiki, and never to a user other than the one it belongs to on
  this site. allauth's "connect" of a first wiki account to a signed-in user is allowed (the person
  started it with a POST and finished it in the same session); a second one, or one that another user
  of the site already signs in with (here or through social-auth), ends on a page that says so.
- ``drop_pending_handshakes`` (Django's ``user_logged_in`` / ``user_logged_out``): a handshake started
  before the session's user changed cannot be finished after it, as on the social-auth side
  (``mwsso.socialauth.handshakes``): otherwise whoever started a "connect" in someone's browser before they signed
  in could link their own wiki account to that person's user.
- ``store_after_signup`` (allauth's ``user_signed_up``): the token of a sign-in that waited for the
  signup form (``pending``) goes to the user the form created.
"""

from __future__ import annotations

import logging
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.models import SocialAccount
from django.db import transaction

from mwsso.contrib.allauth import conf, pending
from mwsso.contrib.allauth.errors import render_error
from mwsso.contrib.allauth.signin import store
from mwsso.exceptions import AccountNotLinked
from mwsso.models import WikiIdentity

logger = logging.getLogger("mwsso.login")

# allauth's session key for stashed handshake states: {state_id: (state, time, provider_id)}.
STATES_SESSION_KEY = "socialaccount_states"


def _is_ours(sociallogin: Any) -> bool:
    return getattr(sociallogin.provider, "id", None) == conf.PROVIDER_ID


def refuse_second_wiki_account(sender: Any, request: Any, sociallogin: Any, **kwargs: Any) -> None:
    if not _is_ours(sociallogin):
        return
    account = sociallogin.account
    wiki = account.extra_data.get("wiki")
    if sociallogin.state.get("process") == "connect":
        target = request.user if request.user.is_authenticated else None
    else:
        # An existing user: the one linked to this wiki account, or one allauth matched by e-mail.
        target = sociallogin.user if sociallogin.is_existing else None
    owner = WikiIdentity.objects.filter(wiki=wiki, sub=account.uid).values_list("user_id", flat=True).first()
    problem = ""
    if owner is not None and (target is None or owner != target.pk):
        problem = f"wiki user {account.uid} on {wiki} belongs to user {owner}"
    elif target is not None:
        others = SocialAccount.objects.filter(user=target, provider=account.provider).exclude(uid=account.uid)
        if others.exists() or WikiIdentity.objects.filter(user=target, wiki=wiki).exclude(sub=account.uid).exists():
            problem = f"user {target.pk} already has another wiki account on {wiki}"
    if problem:
        logger.warning("refused to link wiki user %s: %s", account.uid, problem)
        refusal = AccountNotLinked(None, problem, reason="second_wiki_account", stage="pipeline")
        raise ImmediateHttpResponse(render_error(request, sociallogin.provider, refusal, step="complete"))


def drop_pending_handshakes(sender: Any, request: Any = None, **kwargs: Any) -> None:
    session = getattr(request, "session", None)
    if session is None:
        return
    states = session.get(STATES_SESSION_KEY)
    dropped = 0
    if isinstance(states, dict):
        kept = {key: value for key, value in states.items() if not _stashed_for_us(value)}
        dropped = len(states) - len(kept)
        if dropped:
            session[STATES_SESSION_KEY] = kept
    if pending.drop(session) or dropped:
        logger.info("dropped %d unfinished MediaWiki sign-in handshake(s) as the session's user changed", dropped)


def _stashed_for_us(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 3 and value[2] == conf.PROVIDER_ID


def store_after_signup(sender: Any, request: Any, user: Any, sociallogin: Any = None, **kwargs: Any) -> None:
    if sociallogin is None or not _is_ours(sociallogin) or request is None:
        return
    signin = pending.restore(request, sociallogin.account.uid)
    if signin is not None:
        with transaction.atomic():
            store(user, sociallogin.account, signin, sender=type(sociallogin.provider), created=True)
