"""The access token admin: read-only, no secret ever rendered (only the ``fingerprint``)."""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any, cast

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.admin.templatetags.admin_urls import admin_urlname
from django.contrib.admin.utils import quote, unquote
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import smart_split, unescape_string_literal
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mwsso import crypto
from mwsso.app_settings import app_settings
from mwsso.models import AccessToken, GrantSet, WikiIdentity
from mwsso.policy.rules import wiki_name
from mwsso.tokens import export_rows, filter_by_grant, manage_grants_url, verify_tokens, with_wiki_username

logger = logging.getLogger("mwsso.admin")

# Problems listed one by one after "Verify with the wiki"; the rest are only counted.
MAX_PROBLEM_MESSAGES = 10
# "Forget selected tokens": rows listed on the confirmation page (the rest are counted per wiki), and rows
# deleted per statement, so that "select all" at any size costs bounded memory and short transactions.
FORGET_SHOWN = 20
FORGET_BATCH = 1000
# The filters' choices are computed at most this often (seconds), never on every page: at 100k tokens a
# ``SELECT DISTINCT`` over the table on each page was most of its time.
FILTER_CHOICES_TTL = 300
# A token's fingerprint (mwsso.models.fingerprint): searched for exactly, and only as a fingerprint.
FINGERPRINT = re.compile(r"[0-9a-f]{12}")
# MediaWiki's grants (core's $wgGrantPermissions and Extension:OAuth's own): always offered by the grant
# filter. Grants a wiki adds itself join them from the grant sets (one row per combination, not per token).
KNOWN_GRANTS = (
    "basic", "blockusers", "checkuser", "checkuser-temporary-account", "createaccount", "createeditmovepage",
    "delete", "editinterface", "editmycssjs", "editmyoptions", "editmywatchlist", "editpage", "editprotected",
    "editsiteconfig", "editsitecss", "editsitejs", "editsitejson", "editusercss", "edituserjs", "edituserjson",
    "highvolume", "import", "mergehistory", "mwoauth-authonly", "mwoauth-authonlyprivate", "oversight",
    "patrol", "privateinfo", "protect", "rollback", "sendemail", "shortenurls", "uploadeditmovefile",
    "uploadfile", "viewdeleted", "viewmywatchlist", "viewrestrictedlogs",
)  # fmt: skip


def grant_choices() -> list[str]:
    """The grant filter's choices: the known grants, the required ones and the grant sets' (cached)."""
    grants = cache.get("mwsso:admin:grants")
    if grants is None:
        found = set(KNOWN_GRANTS) | set(app_settings.REQUIRED_GRANTS)
        for names in GrantSet.objects.values_list("grants", flat=True):
            found.update(names)
        grants = sorted(found)
        cache.set("mwsso:admin:grants", grants, FILTER_CHOICES_TTL)
    return list(grants)


def posted_count(value: str | None) -> int | None:
    """A posted whole number (0 or more), or None if it is missing or anything else."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number >= 0 else None


def wiki_choices() -> list[str]:
    """The wikis tokens are stored for (cached: one index-only pass every few minutes, not one per page)."""
    wikis = cache.get("mwsso:admin:wikis")
    if wikis is None:
        wikis = list(AccessToken.objects.order_by("wiki").values_list("wiki", flat=True).distinct())
        cache.set("mwsso:admin:wikis", wikis, FILTER_CHOICES_TTL)
    return list(wikis)


class GrantFilter(admin.SimpleListFilter):
    """Tokens by grant: those of the grant sets that contain it (``filter_by_grant``), the same on every database."""

    title = _("grant")
    parameter_name = "grant"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        choices = grant_choices()
        named = self.value()
        if named and named not in choices:
            choices.append(named)  # a grant named in the URL stays selectable
        return [(grant, grant) for grant in choices]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> QuerySet[AccessToken]:
        named = self.value()
        return filter_by_grant(queryset, named) if named else queryset


class WikiFilter(admin.SimpleListFilter):
    """Tokens by wiki, its choices cached (Django's own field filter reads every distinct value on each page)."""

    title = _("wiki")
    parameter_name = "wiki"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(wiki, wiki_name(wiki)) for wiki in wiki_choices()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> QuerySet[AccessToken]:
        return queryset.filter(wiki=self.value()) if self.value() else queryset


class Echo:
    """A file-like object whose ``write`` returns what it was given: csv.writer's rows, one string each."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterator[list[str]]) -> Iterator[str]:
    writer = csv.writer(Echo())
    for row in rows:
        yield writer.writerow(row)


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


# How many users a search on MariaDB or MySQL may match and still be looked up by their ids.
MYSQL_SEARCH_IDS = 1000


def _users_on_mysql(matched: QuerySet[Any], on_site: QuerySet[Any], on_wiki: QuerySet[Any]) -> Q:
    """The search's users on MariaDB and MySQL, whose plans for ``user_id IN (… UNION …)`` run the union per row.

    There it is a dependent union, both subqueries per token row (1.0-1.3 s at 100k tokens, 4.5-5.7 times
    Django's user list); an OR of the two INs still walks every token (0.4 s for a wiki username). So the
    matching users' ids are read first (the same two scans, once) and their tokens found by the user index;
    a word that matches more than ``MYSQL_SEARCH_IDS`` users (a list that long pages nearly as fast by
    walking the list's order) keeps the OR.
    """
    ids = [next(iter(row.values())) for row in matched[: MYSQL_SEARCH_IDS + 1]]  # rows of one column
    if len(ids) <= MYSQL_SEARCH_IDS:
        return Q(user_id__in=ids)
    return Q(user_id__in=on_site) | Q(user_id__in=on_wiki)


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]  # generic only in django-stubs, not at run time
    # Few, narrow columns so that all fit beside the filters at 1280 px; grants, the OAuth version and the
    # creation date are filters here and shown on each token's page.
    list_display = ("fingerprint", "account", "status", "last_used_short", "last_verified_short")
    list_display_links = ("fingerprint",)
    # No date_hierarchy: its MIN/MAX and DISTINCT date queries scanned the table on every page; the
    # "created" filter offers the same ranges (today, 7 days, month, year) without a query of its own.
    list_filter = ("status", WikiFilter, GrantFilter, "oauth_version", "created")
    list_select_related = ("user",)
    ordering = ("-created", "-pk")
    # One COUNT per page (the filtered one), not a second over the whole table.
    show_full_result_count = False
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

    # Shown in the search box's help; the search itself is get_search_results'.
    search_fields = ("fingerprint",)
    search_help_text = _("Part of a username (on the site or on the wiki), or a token's whole fingerprint.")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AccessToken], search_term: str
    ) -> tuple[QuerySet[AccessToken], bool]:
        """Each word in the site's username or the wiki username; a word of 12 hex digits is a fingerprint.

        The wiki username is matched by a subquery on the identities, not a join: a join over a to-many
        relation makes Django add ``DISTINCT`` over every column, at every page and count.
        """
        username = get_user_model().USERNAME_FIELD
        for word in smart_split(search_term):
            if word.startswith(('"', "'")) and word[0] == word[-1]:
                word = unescape_string_literal(word)
            if FINGERPRINT.fullmatch(word):
                # A fingerprint alone: an index lookup (ORed with the usernames it would scan the table).
                queryset = queryset.filter(fingerprint=word)
                continue
            # The users whose name on the site or on a wiki contains the word, as one UNION: each table scanned
            # once (as Django's user list scans auth_user), then their tokens by user id. (An OR of two IN or
            # EXISTS subqueries measured 2-5 times slower at 100k tokens on PostgreSQL.)
            on_site = get_user_model().objects.filter(**{f"{username}__icontains": word}).values("pk")
            on_wiki = WikiIdentity.objects.filter(username__icontains=word).values("user_id")
            matched = on_site.union(on_wiki)
            if connections[queryset.db].vendor == "mysql":
                queryset = queryset.filter(_users_on_mysql(matched, on_site, on_wiki))
            else:
                queryset = queryset.filter(user_id__in=matched)
        return queryset, False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessToken]:
        # The user too: every page names the token by its user (list, heading, breadcrumbs). Never the
        # ciphertext: no page shows it (verifying reads the tokens afresh).
        return with_wiki_username(super().get_queryset(request)).select_related("user").defer("encrypted")

    def get_actions(self, request: HttpRequest, action_location: Any = None) -> dict[str, Any]:
        # Django 6.1 passes action_location (and deprecates overrides without it); 5.2 has no such argument.
        if action_location is None:
            actions = super().get_actions(request)
        else:
            actions = super().get_actions(request, action_location)  # type: ignore[call-arg]  # Django 6.1's signature
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
            # Django's own "does not exist" answer for a change page (private, not in django-stubs).
            redirected: HttpResponse = self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
            return redirected
        self.verify_with_wiki(request, self.get_queryset(request).filter(pk=token.pk))
        return redirect(
            reverse(
                admin_urlname(self.opts, mark_safe("change")), args=[quote(token.pk)], current_app=self.admin_site.name
            )
        )

    @admin.action(permissions=["change"], description=_("Verify with the wiki"))
    def verify_with_wiki(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> None:
        # Bounded: verifying calls the wiki for each token (a few hundred a second at best), which must not
        # run for minutes inside one web request. More than the limit: the command does it.
        limit = app_settings.ADMIN_VERIFY_LIMIT
        pks = list(queryset.order_by("pk").values_list("pk", flat=True)[: limit + 1])
        if len(pks) > limit:
            text = _(
                "The admin verifies at most %(limit)d access tokens at a time (MWSSO_ADMIN_VERIFY_LIMIT): select "
                "fewer, or run “manage.py mwsso_tokens verify” (with --status, --wiki, --grant or --user to choose "
                "them). Nothing was checked."
            ) % {"limit": limit}
            self.message_user(request, text, messages.WARNING)
            return
        summary = verify_tokens(AccessToken.objects.filter(pk__in=pks), concurrency=app_settings.VERIFY_CONCURRENCY)
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
        """A confirmation that summarises (counts per wiki, the first rows), then deletion in batches.

        With "select all" the selection is the list's filters and search (the form posts back to the same
        URL with ``select_across``), never a list of every primary key. The confirmation posts back the
        highest primary key it saw (``up_to``) and the total it showed: tokens stored later are not
        forgotten, and if the bounded selection no longer counts what was shown (a token started or stopped
        matching the filter meanwhile), or the bound is missing, nothing is deleted and the confirmation is
        shown again with the new counts.
        """
        selection = queryset.order_by()
        if request.POST.get("post") != "yes":
            return self._forget_confirmation(request, queryset, selection)
        if request.POST.get("select_across") != "1":
            # Selected one by one: the posted primary keys bound the selection already (as Django's delete).
            self._forget_in_batches(request, selection)
            return None
        up_to = posted_count(request.POST.get("up_to"))
        shown = posted_count(request.POST.get("total"))
        now: int | None = None
        if up_to is not None and shown is not None:
            bounded = selection.filter(pk__lte=up_to)
            now = bounded.count()
            if now == shown:
                self._forget_in_batches(request, bounded)
                return None
        # Not what the administrator confirmed: say so, forget nothing, and ask again with today's counts.
        logger.warning(
            "forget in the admin by user %s refused: the selection changed or the form was incomplete "
            "(shown %s, up to id %s, now %s)",
            request.user.pk, shown, up_to, now,
        )  # fmt: skip
        self.message_user(
            request,
            _(
                "The selection changed since the confirmation was shown (or the form was incomplete): nothing "
                "was forgotten. Check the new counts below and confirm again."
            ),
            messages.WARNING,
        )
        return self._forget_confirmation(request, queryset, selection)

    def _forget_confirmation(
        self, request: HttpRequest, queryset: QuerySet[AccessToken], selection: QuerySet[AccessToken]
    ) -> TemplateResponse:
        """The confirmation page: counts per wiki, the first FORGET_SHOWN rows, and what to post back."""
        select_across = request.POST.get("select_across") == "1"
        # With "select all", the bound first: the counts shown are exactly what confirming will delete.
        up_to = selection.order_by("-pk").values_list("pk", flat=True).first() if select_across else None
        if select_across:
            selection = selection.filter(pk__lte=up_to or 0)
            queryset = queryset.filter(pk__lte=up_to or 0)
        per_wiki: dict[str, dict[str, Any]] = {}
        for wiki, wiki_url, count in selection.values_list("wiki", "wiki_url").annotate(n=Count("pk")).order_by("wiki"):
            entry = per_wiki.setdefault(wiki, {"wiki": wiki, "name": wiki_name(wiki), "count": 0, "urls": set()})
            entry["count"] += count
            entry["urls"].add(manage_grants_url(wiki_url))
        wikis = [{**entry, "urls": sorted(entry["urls"])} for entry in per_wiki.values()]
        total = sum(entry["count"] for entry in wikis)
        shown = list(queryset.order_by("wiki", "pk")[:FORGET_SHOWN])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Forget access tokens"),
            "subtitle": None,
            "total": total,
            "wikis": wikis,
            "tokens": shown,
            "more": max(0, total - len(shown)),
            "select_across": select_across,
            # Selected one by one: at most a page's worth of primary keys, posted back as they came.
            "selected": [] if select_across else [token_pk for token_pk in selection.values_list("pk", flat=True)],
            "up_to": (up_to or 0) if select_across else None,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "action_name": "forget_tokens",
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.forget_confirmation_template, context)

    def _forget_in_batches(self, request: HttpRequest, selection: QuerySet[AccessToken]) -> None:
        """Delete ``selection`` FORGET_BATCH rows at a time, then write ONE log entry that counts them per wiki."""
        per_wiki: dict[str, int] = {}
        last_pk = 0
        while batch := list(selection.filter(pk__gt=last_pk).order_by("pk").values_list("pk", "wiki")[:FORGET_BATCH]):
            pks = [pk for pk, _wiki in batch]
            # delete_queryset stays the hook (as for Django's own delete action), one batch at a time.
            self.delete_queryset(request, AccessToken.objects.filter(pk__in=pks))
            for _pk, wiki in batch:
                per_wiki[wiki] = per_wiki.get(wiki, 0) + 1
            last_pk = pks[-1]
        count = sum(per_wiki.values())
        if count:
            detail = ", ".join(f"{wiki_name(wiki)}: {n}" for wiki, n in sorted(per_wiki.items()))
            LogEntry.objects.create(
                user_id=cast(int, request.user.pk),  # an admin action's user is always signed in
                content_type=ContentType.objects.get_for_model(AccessToken),
                object_id=None,
                object_repr=(ngettext("%(count)d access token", "%(count)d access tokens", count) % {"count": count})[
                    :200
                ],
                action_flag=DELETION,
                change_message=_("Forgot %(count)d access tokens (%(detail)s).") % {"count": count, "detail": detail},
            )
            logger.info("user %s forgot %s access tokens in the admin (%s)", request.user.pk, count, detail)
        message = ngettext("Forgot %(count)d access token.", "Forgot %(count)d access tokens.", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(permissions=["view"], description=_("Export as CSV (no secrets)"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[AccessToken]) -> StreamingHttpResponse:
        # Streamed: export_rows reads the rows in chunks by primary key and they are written as they come, so
        # "select all" at any size holds one chunk in memory, not the whole file.
        response = StreamingHttpResponse(csv_lines(export_rows(queryset)), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="mwsso-access-tokens-{stamp}.csv"'
        return response
