"""A sign-in waiting for allauth's signup form, kept encrypted in the session until the form creates the user.

While the person fills in the form, allauth keeps the pending social login in the session, serialised
in plain text; it holds no token (``signin`` gives allauth none). The tokens and profile wait here
instead, encrypted with ``MWSSO_TOKEN_KEYS`` (``mwsso.crypto``), for one wiki account and at most
``MAX_AGE`` seconds; ``guards`` drops them whenever the session's user changes.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from django.http import HttpRequest

from mwsso import crypto
from mwsso.contrib.allauth import conf
from mwsso.contrib.allauth.handshake import WikiSignIn
from mwsso.protocol import oauth2
from mwsso.protocol.identity import InvalidIdentity, identity_from_profile

logger = logging.getLogger("mwsso.login")

SESSION_KEY = "mwsso_allauth_pending"
MAX_AGE = 3600


def stash(request: HttpRequest, uid: str, signin: WikiSignIn) -> None:
    tokens = signin.tokens
    sealed = {
        "profile": signin.profile,
        "issuer_url": conf.issuer_url(),
        "access": tokens.access_token,
        "refresh": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "client_id": signin.client_id,
        "wiki_url": signin.wiki_url,
    }
    request.session[SESSION_KEY] = {"uid": uid, "at": time.time(), "sealed": crypto.encrypt(json.dumps(sealed))}


def drop(session: Any) -> bool:
    return session.pop(SESSION_KEY, None) is not None


def restore(request: HttpRequest, uid: str) -> WikiSignIn | None:
    """The sign-in stashed for wiki user ``uid`` (removed from the session), or None."""
    held = request.session.pop(SESSION_KEY, None)
    if not isinstance(held, dict) or held.get("uid") != uid:
        return None
    if not isinstance(held.get("at"), (int, float)) or time.time() - held["at"] > MAX_AGE:
        logger.info("a sign-in of wiki user %s waited too long for the signup form; its token is not kept", uid)
        return None
    try:
        sealed = json.loads(crypto.decrypt(str(held.get("sealed"))))
        identity = identity_from_profile(sealed["profile"], sealed["issuer_url"])
        tokens = oauth2.TokenSet(sealed["access"], sealed["refresh"], sealed["expires_in"])
        return WikiSignIn(identity, tokens, sealed["client_id"], sealed["wiki_url"], sealed["profile"], {})
    except (crypto.InvalidToken, ValueError, KeyError, TypeError, InvalidIdentity):
        # A key change since the stash, or a session that was tampered with: the next sign-in stores a token.
        logger.warning(
            "the sign-in of wiki user %s stashed for the signup form cannot be read; its token is not kept", uid
        )
        return None
