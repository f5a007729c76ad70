"""mwsso in the Django admin: access tokens (read-only, with verify / forget / export actions) and wiki identities.

Tokens and identities also show, read-only, on each user's admin page when the
site uses Django's stock ``UserAdmin``; a site with its own user admin can add
``AccessTokenInline`` and ``WikiIdentityInline`` to its ``inlines``.
"""

from __future__ import annotations

from mwsso.admin.tokens import AccessTokenAdmin, GrantFilter
from mwsso.admin.users import (
    AccessTokenInline,
    UserWithWikiAdmin,
    WikiIdentityAdmin,
    WikiIdentityInline,
    register_user_admin,
)

register_user_admin()

__all__ = [
    "AccessTokenAdmin",
    "AccessTokenInline",
    "GrantFilter",
    "UserWithWikiAdmin",
    "WikiIdentityAdmin",
    "WikiIdentityInline",
    "register_user_admin",
]
