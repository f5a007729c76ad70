"""Signals mwsso sends.

- ``identity_refreshed(sender, user, identity, created)``: after each successful login.
- ``login_refused(sender, identity, reason)``: a policy refused a wiki user.
- ``token_invalidated(sender, token, reason)``: the wiki said a stored access token no longer works.
"""

from __future__ import annotations

from django.dispatch import Signal

identity_refreshed = Signal()
login_refused = Signal()
token_invalidated = Signal()
