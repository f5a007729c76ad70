"""Wiki identities in the admin, and a user's tokens and identities on the user's own admin page."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from mwsso.models import AccessToken, WikiIdentity


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]  # a base for inlines of two models
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class WikiIdentityInline(ReadOnlyInline):
    """What each wiki last vouched for about the user (latest first)."""

    model = WikiIdentity
    ordering = ("-refreshed_at",)
    fields = readonly_fields = (
        "wiki", "username", "sub", "group_list", "editcount", "blocked", "confirmed_email", "registered", "refreshed_at",
    )  # fmt: skip

    @admin.display(description=_("groups"))
    def group_list(self, obj: WikiIdentity) -> str:
        return ", ".join(obj.effective_groups)


class AccessTokenInline(ReadOnlyInline):
    """The user's access tokens; the link opens the token's (read-only) admin page with the actions."""

    model = AccessToken
    show_change_link = True
    ordering = ("wiki",)
    fields = readonly_fields = (
        "wiki", "oauth_version", "fingerprint", "grant_list", "status", "status_reason", "created", "last_used",
        "last_verified",
    )  # fmt: skip

    @admin.display(description=_("grants"))
    def grant_list(self, obj: AccessToken) -> str:
        return ", ".join(obj.grants or ())


class UserWithWikiAdmin(UserAdmin):  # type: ignore[type-arg]  # for whatever AUTH_USER_MODEL is
    """Django's ``UserAdmin`` plus the user's wiki identities and access tokens."""

    inlines = [*UserAdmin.inlines, WikiIdentityInline, AccessTokenInline]


def register_user_admin(site: admin.AdminSite | None = None) -> bool:
    """Swap the stock ``UserAdmin`` for ``UserWithWikiAdmin``; leave a site's own user admin alone.

    Returns whether it did. A custom user model with its own admin class keeps it:
    add ``WikiIdentityInline`` and ``AccessTokenInline`` to its ``inlines`` instead.
    """
    site = site or admin.site
    user_model = get_user_model()
    if not site.is_registered(user_model) or type(site.get_model_admin(user_model)) is not UserAdmin:
        return False
    site.unregister(user_model)
    site.register(user_model, UserWithWikiAdmin)
    return True


@admin.register(WikiIdentity)
class WikiIdentityAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs, not at run time
    list_display = ("username", "wiki", "sub", "user", "editcount", "blocked", "confirmed_email", "refreshed_at")
    list_filter = ("wiki", "blocked", "confirmed_email")
    list_select_related = ("user",)
    ordering = ("-refreshed_at",)
    fields = readonly_fields = (
        "user", "wiki", "sub", "username", "editcount", "confirmed_email", "blocked", "registered", "group_list",
        "right_list", "grant_list", "refreshed_at",
    )  # fmt: skip

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        return ["username", "=sub", f"user__{get_user_model().USERNAME_FIELD}"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WikiIdentity | None = None) -> bool:
        # Identities come from the wiki at each login: viewable, never edited here.
        return False if obj is not None else super().has_change_permission(request)

    @admin.display(description=_("groups"))
    def group_list(self, obj: WikiIdentity) -> str:
        return ", ".join(obj.effective_groups)

    @admin.display(description=_("rights"))
    def right_list(self, obj: WikiIdentity) -> str:
        return ", ".join(obj.rights or ())

    @admin.display(description=_("grants"))
    def grant_list(self, obj: WikiIdentity) -> str:
        return ", ".join(obj.grants or ())
