"""Signals mwsso sends.

- ``identity_refreshed(sender, user, identity, created)``: after each successful login.
- ``login_refused(sender, identity, reason)``: a policy refused a wiki user.
- ``token_invalidated(sender, token, reason)``: the wiki said a stored access token no longer works.
- ``token_refreshed(sender, token)``: an OAuth 2.0 token was refreshed (once, by the worker that did it).
- ``token_refresh_failed(sender, token, reason, final)``: a refresh failed; ``final`` when the wiki refused
  it (the user must sign in again), not when the wiki could not be reached (the token is left as it was).
"""

from __future__ import annotations

from django.dispatch import Signal

identity_refreshed = Signal()
login_refused = Signal()
token_invalidated = Signal()
token_refreshed = Signal()
token_refresh_failed = Signal()
