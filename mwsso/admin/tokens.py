"""The access token admin: read-only, no secret ever rendered (only the ``fingerprint``)."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mwsso import crypto
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken
from mwsso.tokens import all_grants, export_rows, filter_by_grant, manage_grants_url, verify_tokens, with_wiki_username

# Problems listed one by one after "Verify with the wiki"; the rest are only counted.
MAX_PROBLEM_MESSAGES = 10


class GrantFilter(admin.SimpleListFilter):
    """Tokens by grant (the grants are a JSON list, filtered the same way on SQLite and PostgreSQL)."""

    title = _("grant")
    parameter_name = "grant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(grant, grant) for grant in all_grants()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> QuerySet[AccessToken]:
        return filter_by_grant(queryset, self.value()) if self.value() else queryset


def encryption_key_label(key_id: str) -> str:
    """Which key encrypts a token: the current one, an old or derived one (rotate), or none (unreadable)."""
    keys = crypto.decryption_keys()
    found = next((key for key in keys if key.id == key_id), None)
    if found is None:
        return f"{key_id} (no known key: unreadable)"
    state = "current" if found == keys[0] else "old: run mwsso_tokens rotate-keys"
    if found.is_derived:
        return f"{key_id} ({found.label}, {state})"
    configured = [key for key in keys if not key.is_derived]
    return f"{key_id} (key {configured.index(found) + 1} of {len(configured)}, {state})"


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = (
        "fingerprint", "user", "wiki_username", "wiki", "oauth_version", "grant_list",
        "status", "created", "last_used", "last_verified",
    )  # fmt: skip
    list_display_links = ("fingerprint",)
    list_filter = ("status", "wiki", GrantFilter, "oauth_version")
    list_select_related = ("user",)
    date_hierarchy = "created"
    ordering = ("-created",)
    # ``encrypted`` is deliberately absent: it is never rendered, not even encrypted.
    fields = (
        "user", "wiki_username", "wiki", "wiki_url", "consumer_key", "oauth_version", "fingerprint",
        "encryption_key", "grant_list", "status", "status_reason", "created", "updated", "last_used",
        "last_verified", "expires_at", "refreshed_at",
    )  # fmt: skip
    readonly_fields = fields
    actions = ("verify_with_wiki", "forget_tokens", "export_csv")
    forget_confirmation_template = "mwsso/admin/forget_confirmation.html"

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        username = get_user_model().USERNAME_FIELD
        return [f"user__{username}", "user__wiki_identities__username", "=fingerprint"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessToken]:
        return with_wiki_username(super().get_queryset(request))

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes action_location (and deprecates overrides without it); 5.2 has no such argument.
        actions = super().get_actions(request) if action_location is None else super().get_actions(request, action_location)
        actions.pop("delete_selected", None)  # "Forget selected tokens" replaces it, with the wiki-side hint
        return actions

    # Read-only: tokens come from logins only; the change form is a view.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AccessToken | None = None) -> bool:
        # Without an object this is the model-level permission the "verify" action needs.
        return False if obj is not None else super().has_change_permission(request)

    @admin.display(description=_("wiki username"), ordering="wiki_username")
    def wiki_username(self, obj: AccessToken) -> str:
        return getattr(obj, "wiki_username", None) or "—"

    @admin.display(description=_("grants"))
    def grant_list(self, obj: AccessToken) -> str:
        return ", ".join(obj.grants or ())

    @admin.display(description=_("encryption key"))
    def encryption_key(self, obj: AccessToken) -> str:
        return encryption_key_label(obj.key_id)

    @admin.action(permissions=["change"], description=_("Verify with the wiki"))
    def verify_with_wiki(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        summary = verify_tokens(queryset, concurrency=app_settings.VERIFY_CONCURRENCY)
        counts = ", ".join(
            f"{summary.counts[status]} {status.label}" for status in AccessToken.Status if summary.counts[status]
        )
        level = messages.SUCCESS if summary.exit_code == 0 else messages.WARNING
        checked = ngettext("Checked %(count)d access token", "Checked %(count)d access tokens", summary.done)
        self.message_user(request, f"{checked % {'count': summary.done}} with the wiki: {counts or 'none'}.", level)
        for problem in summary.problems[:MAX_PROBLEM_MESSAGES]:
            label = AccessToken.Status(problem.status).label
            self.message_user(request, f"Token #{problem.token_id}: {label}: {problem.reason}", messages.WARNING)
        if len(summary.problems) > MAX_PROBLEM_MESSAGES:
            more = len(summary.problems) - MAX_PROBLEM_MESSAGES
            self.message_user(request, f"… and {more} more (filter by status to see them).", messages.WARNING)

    @admin.action(permissions=["delete"], description=_("Forget selected tokens"))
    def forget_tokens(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> TemplateResponse | None:
        if request.POST.get("post") == "yes":
            count = queryset.count()
            self.log_deletions(request, queryset)
            self.delete_queryset(request, queryset)
            message = ngettext("Forgot %(count)d access token.", "Forgot %(count)d access tokens.", count)
            self.message_user(request, message % {"count": count}, messages.SUCCESS)
            return None
        tokens = list(queryset.select_related("user").order_by("wiki", "pk"))
        wikis = sorted({(token.wiki, manage_grants_url(token.wiki_url)) for token in tokens})
        context = {
            **self.admin_site.each_context(request),
            "title": _("Forget access tokens"),
            "subtitle": None,
            "tokens": tokens,
            "wikis": wikis,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "forget_tokens",
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.forget_confirmation_template, context)

    @admin.action(permissions=["view"], description=_("Export as CSV (no secrets)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> HttpResponse:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="mwsso-access-tokens-{stamp}.csv"'
        csv.writer(response).writerows(export_rows(queryset))
        return response
