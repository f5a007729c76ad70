"""The access token admin: read-only, no secret ever rendered (only the ``fingerprint``)."""

from __future__ import annotations

import csv
from datetime import datetime
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mwsso import crypto
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken
from mwsso.policy.rules import wiki_name
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
        return _("%(key_id)s (no known key: unreadable)") % {"key_id": key_id}
    state = _("current") if found == keys[0] else _("old: run mwsso_tokens rotate-keys")
    if found.is_derived:
        return f"{key_id} ({found.label}, {state})"
    configured = [key for key in keys if not key.is_derived]
    return _("%(key_id)s (key %(position)d of %(count)d, %(state)s)") % {
        "key_id": key_id, "position": configured.index(found) + 1, "count": len(configured), "state": state,
    }  # fmt: skip


def short_datetime(value: datetime | None) -> str:
    """A date and time in two short lines (the site's short date format), the full one on hover."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    return format_html(
        '<time datetime="{}" title="{}">{}<br>{}</time>',
        value.isoformat(), date_format(local, "DATETIME_FORMAT"),
        date_format(local, "SHORT_DATE_FORMAT"), date_format(local, "TIME_FORMAT"),
    )  # fmt: skip


def token_title(token: AccessToken) -> str:
    """How a token's page names it: fingerprint, whose (the wiki username, else the site's) and which wiki."""
    user = getattr(token, "wiki_username", None) or token.user.get_username()
    return _("Access token %(fingerprint)s of %(user)s on %(wiki)s") % {
        "fingerprint": token.fingerprint, "user": user, "wiki": wiki_name(token.wiki),
    }  # fmt: skip


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    # Few, narrow columns so that all fit beside the filters at 1280 px; grants, the OAuth version and the
    # creation date (drill down by it above the list) are filters here and shown on each token's page.
    list_display = ("fingerprint", "account", "status", "last_used_short", "last_verified_short")
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
    change_form_template = "mwsso/admin/accesstoken_change_form.html"

    def get_search_fields(self, request: HttpRequest) -> list[str]:
        username = get_user_model().USERNAME_FIELD
        return [f"user__{username}", "user__wiki_identities__username", "=fingerprint"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessToken]:
        # The user too: every page names the token by its user (list, heading, breadcrumbs).
        return with_wiki_username(super().get_queryset(request)).select_related("user")

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

    @admin.display(description=_("account"), ordering="wiki_username")
    def account(self, obj: AccessToken) -> str:
        """The wiki username (and the site's own, if it differs) above the wiki's host, in one narrow cell."""
        local = obj.user.get_username()
        shown = getattr(obj, "wiki_username", None) or local
        other = format_html(' <span class="mwsso-local-user">({})</span>', local) if local != shown else ""
        return format_html('{}{}<br><span class="mwsso-wiki">{}</span>', shown, other, wiki_name(obj.wiki))

    @admin.display(description=_("created"), ordering="created")
    def created_short(self, obj: AccessToken) -> str:
        return short_datetime(obj.created)

    @admin.display(description=_("last used"), ordering="last_used")
    def last_used_short(self, obj: AccessToken) -> str:
        return short_datetime(obj.last_used)

    @admin.display(description=_("last verified"), ordering="last_verified")
    def last_verified_short(self, obj: AccessToken) -> str:
        return short_datetime(obj.last_verified)

    @admin.display(description=_("grants"))
    def grant_list(self, obj: AccessToken) -> str:
        return ", ".join(obj.grants or ())

    @admin.display(description=_("encryption key"))
    def encryption_key(self, obj: AccessToken) -> str:
        return encryption_key_label(obj.key_id)

    # -- one token's own page: its username in the heading, "Verify" and "Forget" instead of "Delete" ------
    def get_urls(self) -> list[URLPattern]:
        verify = self.admin_site.admin_view(self.verify_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_verify"
        return [path("<path:object_id>/verify/", verify, name=name), *super().get_urls()]

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], add: bool = False, change: bool = False,
        form_url: str = "", obj: AccessToken | None = None,
    ) -> HttpResponse:  # fmt: skip
        if obj is not None:
            context["subtitle"] = token_title(obj)
            context["token_title"] = token_title(obj)
            context["manage_grants_url"] = manage_grants_url(obj.wiki_url)
            context["wiki_name"] = wiki_name(obj.wiki)
            # The model-level permission, as for the "Verify with the wiki" action.
            context["has_verify_permission"] = self.has_change_permission(request)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def verify_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: verify this one token with the wiki, then back to its page with the outcome."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        token = self.get_object(request, unquote(object_id))
        if token is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        self.verify_with_wiki(request, self.get_queryset(request).filter(pk=token.pk))
        return redirect(
            reverse(admin_urlname(self.opts, "change"), args=[quote(token.pk)], current_app=self.admin_site.name)
        )

    @admin.action(permissions=["change"], description=_("Verify with the wiki"))
    def verify_with_wiki(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        summary = verify_tokens(queryset, concurrency=app_settings.VERIFY_CONCURRENCY)
        counts = ", ".join(
            f"{summary.counts[status]} {status.label}" for status in AccessToken.Status if summary.counts[status]
        )
        level = messages.SUCCESS if summary.exit_code == 0 else messages.WARNING
        checked = ngettext(
            "Checked %(count)d access token with the wiki: %(outcome)s.",
            "Checked %(count)d access tokens with the wiki: %(outcome)s.",
            summary.done,
        )
        self.message_user(request, checked % {"count": summary.done, "outcome": counts or _("none")}, level)
        for problem in summary.problems[:MAX_PROBLEM_MESSAGES]:
            label = AccessToken.Status(problem.status).label
            text = _("Token #%(id)s: %(status)s: %(reason)s") % {
                "id": problem.token_id, "status": label, "reason": problem.reason,
            }  # fmt: skip
            self.message_user(request, text, messages.WARNING)
        if len(summary.problems) > MAX_PROBLEM_MESSAGES:
            more = len(summary.problems) - MAX_PROBLEM_MESSAGES
            text = _("… and %(count)d more (filter by status to see them).") % {"count": more}
            self.message_user(request, text, messages.WARNING)

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
