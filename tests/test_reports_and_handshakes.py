"""Smaller holes: verify counts only what it wrote; ``--user`` selects one user; a bad callback uses its handshake up.

- A verify that raced a new sign-in said "1 revoked" of a token it left valid (the result was dropped).
- After a wiki rename, ``mwsso_tokens list --user Alice`` selected the old and the new Alice.
- A callback with a tampered ``oauth_verifier`` failed, yet the genuine callback then still signed in:
  the wiki's 502 kept Django from saving the session that had used the request token up.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from mwsso.devwiki.testing import authorize
from tests.conftest import callback_path, start_login

User = get_user_model()


# -- a bad callback uses the pending handshake up ----------------------------------------------------------
@pytest.mark.django_db
def test_a_tampered_verifier_uses_the_pending_sign_in_up(wiki_settings, devwiki, site_client, caplog):
    allowed = authorize(None, start_login(site_client), user="Alice")
    genuine = callback_path(allowed.headers["Location"])
    tampered = genuine.replace("oauth_verifier=", "oauth_verifier=x")
    refused = site_client.get(tampered)
    assert refused.status_code == 502 and "Sign-in failed" in refused.content.decode()  # the wiki refused it
    late = site_client.get(genuine)
    assert late.status_code == 400 and "callback_rejected" in late.content.decode()
    assert not User.objects.exists() and "_auth_user_id" not in site_client.session
    # A new sign-in from the same browser works.
    allowed = authorize(None, start_login(site_client), user="Alice")
    assert site_client.get(callback_path(allowed.headers["Location"])).status_code == 302
