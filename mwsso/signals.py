"""Signals mwsso sends.

- ``identity_refreshed(sender, user, identity, created)``: after each successful login.
- ``login_refused(sender, identity, reason)``: a policy refused a wiki user.
- ``token_invalidated(sender, token, reason)``: the wiki said a stored access token no longer works.
- ``login_rate_limited(sender, request, backend, scope, retry_after)``: a sign-in start was refused with 429
  (``scope`` is ``ip`` or ``session``).
"""

from __future__ import annotations

from django.dispatch import Signal

identity_refreshed = Signal()
login_refused = Signal()
token_invalidated = Signal()
login_rate_limited = Signal()
