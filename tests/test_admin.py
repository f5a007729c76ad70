"""The admin for access tokens and wiki identities, with real tokens from real logins through the local wiki."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Permission
from django.test import Client

from mwsso.admin import AccessTokenInline, UserWithWikiAdmin, WikiIdentityInline, register_user_admin
from mwsso.models import AccessToken, WikiIdentity
from mwsso.policy.rules import wiki_name
from mwsso.protocol.identity import wiki_key
from mwsso.signals import token_invalidated
from tests.conftest import SITE_HOST, TEST_CONSUMER_KEY, TEST_CONSUMER_SECRET

pytestmark = pytest.mark.django_db
User = get_user_model()
CHANGELIST = "/admin/mwsso/accesstoken/"


@pytest.fixture
def tokens(login):  # type: ignore[no-untyped-def]
    """Alice's and Bob's real access tokens, from two real sign-ins."""
    for name in ("Alice", "Bob"):
        response = login(Client(HTTP_HOST=SITE_HOST), name)
        assert response.status_code == 302 and response["Location"] == "/profile/"
    return {token.user.username: token for token in AccessToken.objects.select_related("user")}


@pytest.fixture
def secrets_(tokens):  # type: ignore[no-untyped-def]
    """Every secret that must never show: token keys and secrets, their ciphertext, the consumer secret."""
    values = [TEST_CONSUMER_SECRET]
    for token in tokens.values():
        credentials = token.get_credentials()
        values += [credentials.key, credentials.secret, token.encrypted]
    assert all(len(value) >= 16 for value in values)
    return values


def assert_no_secret(content: bytes | str, secrets: list[str]) -> None:
    text = content.decode() if isinstance(content, bytes) else content
    for secret in secrets:
        assert secret not in text
        # Not even partly: no 10-character slice of a key or secret.
        assert not any(secret[i : i + 10] in text for i in range(0, len(secret) - 10, 5)), "part of a secret shown"


def post_action(client: Client, action: str, pks: list[int], **extra: str):  # type: ignore[no-untyped-def]
    data = {"action": action, "_selected_action": [str(pk) for pk in pks], "index": "0", **extra}
    return client.post(CHANGELIST, data)


def staff(*codenames: str) -> Client:
    user = User.objects.create_user("staff-" + "-".join(codenames or ("none",)), password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


# -- rendering ------------------------------------------------------------------
def test_changelist_lists_tokens_with_their_columns_and_no_secret(admin_client, tokens, secrets_):
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    for token in tokens.values():
        assert token.fingerprint in html
    headings = re.findall(
        r'<th scope="col"[^>]*>.*?<(?:a|span)[^>]*>([^<]+)</', html.split('id="result_list"')[1], re.S
    )
    assert headings == ["Fingerprint", "Account", "Status", "Last used", "Last verified"]  # created: the drill-down
    assert (
        "Alice" in html
        and "Bob" in html
        and f'<span class="mwsso-wiki">{urlsplit(tokens["Alice"].wiki).netloc}' in html
    )
    assert "editpage" in html  # grants: a filter (and on each token's page), no longer a column
    assert 'name="action"' in html and "Verify with the wiki" in html and "Forget selected tokens" in html
    assert "delete_selected" not in html  # replaced by "Forget", which explains the wiki side
    assert_no_secret(response.content, secrets_)


def test_search_by_wiki_username_and_filters(admin_client, tokens, devwiki):
    alice = tokens["Alice"]
    # The wiki username, even when the Django username differs from it.
    User.objects.filter(pk=alice.user_id).update(username="alice-local")
    found = admin_client.get(CHANGELIST, {"q": "Alice"})
    assert alice.fingerprint in found.content.decode() and tokens["Bob"].fingerprint not in found.content.decode()
    by_django_name = admin_client.get(CHANGELIST, {"q": "alice-local"}).content.decode()
    assert alice.fingerprint in by_django_name and tokens["Bob"].fingerprint not in by_django_name

    AccessToken.objects.filter(pk=alice.pk).update(status=AccessToken.Status.REVOKED, grants=["basic"])
    revoked = admin_client.get(CHANGELIST, {"status__exact": "revoked"}).content.decode()
    assert alice.fingerprint in revoked and tokens["Bob"].fingerprint not in revoked
    by_grant = admin_client.get(CHANGELIST, {"grant": "editpage"}).content.decode()
    assert tokens["Bob"].fingerprint in by_grant and alice.fingerprint not in by_grant
    assert "createeditmovepage" in by_grant  # the grant filter offers every grant tokens have
    by_wiki = admin_client.get(CHANGELIST, {"wiki": wiki_key(devwiki.index_url)}).content.decode()
    assert alice.fingerprint in by_wiki and tokens["Bob"].fingerprint in by_wiki
    other_wiki = admin_client.get(CHANGELIST, {"wiki": "https://nowhere.example"}).content.decode()
    assert alice.fingerprint not in other_wiki
    by_day = admin_client.get(CHANGELIST, {"created__year": str(alice.created.year)})
    assert by_day.status_code == 200 and alice.fingerprint in by_day.content.decode()


def test_detail_page_is_read_only_and_shows_no_secret(admin_client, tokens, secrets_):
    token = tokens["Alice"]
    url = f"{CHANGELIST}{token.pk}/change/"
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert token.fingerprint in html and token.consumer_key in html and "key 1 of 2, current" in html
    assert 'name="_save"' not in html and 'name="status"' not in html and "<select" not in html.split("<form")[-1]
    assert_no_secret(response.content, secrets_)
    # Nothing can be changed or added, even by a superuser posting directly.
    assert admin_client.post(url, {"status": "invalid"}).status_code == 403
    assert AccessToken.objects.get(pk=token.pk).status == AccessToken.Status.VALID
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403


def test_user_page_shows_identity_and_tokens_inline(admin_client, tokens, secrets_):
    assert type(admin.site.get_model_admin(User)) is UserWithWikiAdmin
    alice = tokens["Alice"]
    response = admin_client.get(f"/admin/auth/user/{alice.user_id}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert alice.fingerprint in html and "editpage" in html
    identity = WikiIdentity.objects.get(user_id=alice.user_id)
    assert str(identity.editcount) in html and "autoconfirmed" in html and identity.sub in html
    assert "Wiki identities" in html and "Access tokens" in html
    assert f"{CHANGELIST}{alice.pk}/change/" in html  # the link to the token's page and its actions
    assert_no_secret(response.content, secrets_)
    # Saving the user leaves the read-only inlines alone.
    assert AccessToken.objects.filter(user_id=alice.user_id).count() == 1


def test_user_admin_is_swapped_only_when_it_is_the_stock_one():
    site = admin.AdminSite(name="scratch")
    assert register_user_admin(site) is False  # nothing registered: nothing to extend
    site.register(User, UserAdmin)
    assert register_user_admin(site) is True
    assert type(site.get_model_admin(User)) is UserWithWikiAdmin
    assert {WikiIdentityInline, AccessTokenInline} <= set(UserWithWikiAdmin.inlines)

    class SiteOwnUserAdmin(UserAdmin):
        pass

    custom = admin.AdminSite(name="custom")
    custom.register(User, SiteOwnUserAdmin)
    assert register_user_admin(custom) is False
    assert type(custom.get_model_admin(User)) is SiteOwnUserAdmin


def test_wiki_identity_admin_is_read_only(admin_client, tokens):
    identity = WikiIdentity.objects.get(username="Alice")
    listing = admin_client.get("/admin/mwsso/wikiidentity/", {"q": "Alice"})
    assert listing.status_code == 200 and "Alice" in listing.content.decode()
    page = admin_client.get(f"/admin/mwsso/wikiidentity/{identity.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client.post(f"/admin/mwsso/wikiidentity/{identity.pk}/change/", {"username": "X"}).status_code == 403
    assert admin_client.get("/admin/mwsso/wikiidentity/add/").status_code == 403


# -- actions --------------------------------------------------------------------
def test_export_csv_has_the_non_secret_fields_only(admin_client, tokens, secrets_):
    WikiIdentity.objects.filter(username="Bob").update(username="=HYPERLINK(evil)")
    response = post_action(admin_client, "export_csv", [t.pk for t in tokens.values()])
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    assert response.streaming  # written as the rows are read, never held whole
    content = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert {row["fingerprint"] for row in rows} == {t.fingerprint for t in tokens.values()}
    alice = next(row for row in rows if row["username"] == "Alice")
    assert alice["wiki_username"] == "Alice" and alice["status"] == "valid" and "editpage" in alice["grants"]
    assert alice["consumer_key"] == TEST_CONSUMER_KEY
    assert "encrypted" not in rows[0]
    # A cell that a spreadsheet would run as a formula is defused.
    assert next(row for row in rows if row["username"] == "Bob")["wiki_username"] == "'=HYPERLINK(evil)"
    assert_no_secret(content, secrets_)


def test_verify_action_marks_valid_and_revoked_tokens(admin_client, tokens, devwiki):
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    invalidated = []

    def receiver(sender, token, reason, **kwargs):  # type: ignore[no-untyped-def]
        invalidated.append((token.pk, reason))

    token_invalidated.connect(receiver)
    try:
        response = post_action(admin_client, "verify_with_wiki", [t.pk for t in tokens.values()])
    finally:
        token_invalidated.disconnect(receiver)
    assert response.status_code == 302
    alice = AccessToken.objects.get(pk=tokens["Alice"].pk)
    bob = AccessToken.objects.get(pk=tokens["Bob"].pk)
    assert alice.status == AccessToken.Status.REVOKED
    assert "mwoauthdatastore-access-token-not-found" in alice.status_reason
    assert bob.status == AccessToken.Status.VALID and bob.status_reason == ""
    assert alice.last_verified > tokens["Alice"].last_verified and bob.last_verified > tokens["Bob"].last_verified
    assert invalidated == [(alice.pk, alice.status_reason)]
    page = admin_client.get(CHANGELIST).content.decode()
    assert "Checked 2 access tokens with the wiki: 1 valid, 1 revoked on the wiki." in page
    assert f"Token #{alice.pk}: revoked on the wiki: mwoauthdatastore-access-token-not-found" in page


def test_verify_action_reports_an_unreachable_wiki_as_error(admin_client, tokens, devwiki):
    devwiki.control("set_fault", step="identify", kind="http500")
    post_action(admin_client, "verify_with_wiki", [tokens["Bob"].pk])
    bob = AccessToken.objects.get(pk=tokens["Bob"].pk)
    assert bob.status == AccessToken.Status.ERROR and "HTTP 500" in bob.status_reason
    assert bob.is_usable  # an outage does not make the token unusable


def test_verify_action_leaves_tokens_alone_while_the_site_is_misconfigured_then_restores_them(
    admin_client, tokens, devwiki, settings, secrets_
):
    bob = tokens["Bob"]
    bob.record_status(AccessToken.Status.INVALID, "mwoauth-invalid-authorization: Invalid signature")  # an old mistake
    good_secret = settings.SOCIAL_AUTH_MEDIAWIKI_SECRET
    wrong_secret = "bad-deploy-" + "f3a9c1" * 5
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = wrong_secret
    post_action(admin_client, "verify_with_wiki", [bob.pk])
    stored = AccessToken.objects.get(pk=bob.pk)
    assert (stored.status, stored.status_reason) == (AccessToken.Status.INVALID, bob.status_reason)
    page = admin_client.get(CHANGELIST).content.decode()
    assert "could not be checked" in page and "SOCIAL_AUTH_MEDIAWIKI_SECRET" in page
    assert_no_secret(page.encode(), [*secrets_, wrong_secret])
    settings.SOCIAL_AUTH_MEDIAWIKI_SECRET = good_secret
    post_action(admin_client, "verify_with_wiki", [bob.pk])
    assert AccessToken.objects.get(pk=bob.pk).status == AccessToken.Status.VALID


def test_forget_action_confirms_then_deletes_and_points_to_the_wiki(admin_client, tokens, devwiki, secrets_):
    pks = [t.pk for t in tokens.values()]
    confirm = post_action(admin_client, "forget_tokens", pks)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "Special:OAuthManageMyGrants" in html
    assert f'href="{devwiki.index_url}?title=Special:OAuthManageMyGrants"' in html
    assert all(t.fingerprint in html for t in tokens.values())
    assert_no_secret(confirm.content, secrets_)
    assert AccessToken.objects.count() == 2  # nothing gone before confirming

    done = admin_client.post(CHANGELIST, {"action": "forget_tokens", "_selected_action": pks, "post": "yes"})
    assert done.status_code == 302
    assert AccessToken.objects.count() == 0
    # One entry that counts them (per wiki), not one per token.
    (entry,) = LogEntry.objects.filter(action_flag=DELETION)
    assert entry.object_repr == "2 access tokens" and entry.object_id is None
    assert f"{wiki_name(wiki_key(devwiki.index_url))}: 2" in entry.get_change_message()
    # The wiki still has the grant: forgetting is local only.
    assert any(not t["revoked"] for t in devwiki.control("stats")["access_tokens"])


# -- permissions ----------------------------------------------------------------
def test_staff_without_permission_gets_403_and_no_actions(tokens):
    client = staff()
    assert client.get(CHANGELIST).status_code == 403
    assert post_action(client, "forget_tokens", [tokens["Alice"].pk], post="yes").status_code == 403
    assert client.get(f"{CHANGELIST}{tokens['Alice'].pk}/change/").status_code == 403
    assert AccessToken.objects.count() == 2
    # Non-staff do not get into the admin at all.
    outsider = Client()
    outsider.force_login(User.objects.create_user("outsider", password="pw"))
    assert outsider.get(CHANGELIST).status_code == 302


def test_view_permission_sees_and_exports_but_cannot_verify_or_forget(tokens, secrets_):
    client = staff("view_accesstoken")
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Export as CSV" in html and "Verify with the wiki" not in html and "Forget selected" not in html
    assert post_action(client, "export_csv", [tokens["Alice"].pk]).status_code == 200
    before = AccessToken.objects.get(pk=tokens["Alice"].pk).last_verified
    post_action(client, "verify_with_wiki", [tokens["Alice"].pk])
    post_action(client, "forget_tokens", [tokens["Alice"].pk], post="yes")
    assert AccessToken.objects.get(pk=tokens["Alice"].pk).last_verified == before
    assert AccessToken.objects.count() == 2


def test_change_permission_verifies_delete_permission_forgets(tokens, devwiki):
    verifier = staff("view_accesstoken", "change_accesstoken")
    html = verifier.get(CHANGELIST).content.decode()
    assert "Verify with the wiki" in html and "Forget selected" not in html
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Bob")
    post_action(verifier, "verify_with_wiki", [tokens["Bob"].pk])
    assert AccessToken.objects.get(pk=tokens["Bob"].pk).status == AccessToken.Status.REVOKED
    post_action(verifier, "forget_tokens", [tokens["Bob"].pk], post="yes")
    assert AccessToken.objects.count() == 2

    forgetter = staff("view_accesstoken", "delete_accesstoken")
    html = forgetter.get(CHANGELIST).content.decode()
    assert "Forget selected" in html and "Verify with the wiki" not in html
    post_action(forgetter, "forget_tokens", [tokens["Bob"].pk], post="yes")
    assert list(AccessToken.objects.values_list("pk", flat=True)) == [tokens["Alice"].pk]


def test_user_page_hides_tokens_from_staff_without_token_permission(tokens):
    client = staff("view_user", "change_user")
    html = client.get(f"/admin/auth/user/{tokens['Alice'].user_id}/change/").content.decode()
    assert tokens["Alice"].fingerprint not in html and "Access tokens" not in html


# -- one token's page: heading, Verify, Forget ------------------------------------
def change_page(client: Client, token: AccessToken) -> str:
    response = client.get(f"{CHANGELIST}{token.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_token_page_is_named_by_its_user_and_offers_verify_and_forget_not_delete(admin_client, tokens, devwiki):
    alice = tokens["Alice"]
    User.objects.filter(pk=alice.user_id).update(username="alice-local")
    page = change_page(admin_client, alice)
    wiki = devwiki.server_url.split("://")[1]
    title = f"Access token {alice.fingerprint} of Alice on {wiki}"
    assert f"<h2>{title}</h2>" in page and f"&rsaquo; {title}\n</div>" in page
    assert f"of user {alice.user_id}" not in page
    assert f'formaction="{CHANGELIST}{alice.pk}/verify/"' in page and 'value="Verify with the wiki"' in page
    assert 'name="action" value="forget_tokens"' in page and f'formaction="{CHANGELIST}"' in page
    assert f'<input type="hidden" name="_selected_action" value="{alice.pk}">' in page
    assert "The grant stays on the wiki" in page
    assert f'href="{devwiki.index_url}?title=Special:OAuthManageMyGrants"' in page
    assert "deletelink" not in page and f"{alice.pk}/delete/" not in page


def test_verify_button_checks_this_token_only_and_comes_back(admin_client, tokens, devwiki):
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Alice")
    devwiki.control("revoke", consumer_key=TEST_CONSUMER_KEY, user="Bob")
    alice, bob = tokens["Alice"], tokens["Bob"]
    url = f"{CHANGELIST}{alice.pk}/verify/"
    assert admin_client.get(url).status_code == 405  # a GET changes nothing
    response = admin_client.post(url, follow=True)
    assert response.redirect_chain == [(f"{CHANGELIST}{alice.pk}/change/", 302)]
    assert "Checked 1 access token with the wiki: 1 revoked on the wiki." in response.content.decode()
    assert AccessToken.objects.get(pk=alice.pk).status == AccessToken.Status.REVOKED
    assert AccessToken.objects.get(pk=bob.pk).status == AccessToken.Status.VALID  # not this one's page
    missing = admin_client.post(f"{CHANGELIST}999999/verify/")
    assert missing.status_code == 302 and missing["Location"] == "/admin/"


def test_forget_button_goes_through_the_forget_confirmation(admin_client, tokens, devwiki):
    alice = tokens["Alice"]
    # What the button posts: the page's own form, to the list, as the list's forget action for this token.
    confirm = admin_client.post(CHANGELIST, {"action": "forget_tokens", "_selected_action": [alice.pk], "index": "0"})
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert "The wiki still lists the grant" in page and alice.fingerprint in page
    assert tokens["Bob"].fingerprint not in page
    done = admin_client.post(CHANGELIST, {"action": "forget_tokens", "_selected_action": [alice.pk], "post": "yes"})
    assert done.status_code == 302
    assert list(AccessToken.objects.values_list("user__username", flat=True)) == ["Bob"]


def test_token_page_buttons_follow_permissions(tokens):
    alice = tokens["Alice"]
    viewer_client = staff("view_accesstoken")
    viewer = change_page(viewer_client, alice)
    assert "_verify" not in viewer and "forget_tokens" not in viewer and "The grant stays on the wiki" not in viewer
    assert viewer_client.post(f"{CHANGELIST}{alice.pk}/verify/").status_code == 403
    verifier = change_page(staff("view_accesstoken", "change_accesstoken"), alice)
    assert "_verify" in verifier and "forget_tokens" not in verifier
    forgetter = change_page(staff("view_accesstoken", "delete_accesstoken"), alice)
    assert "_verify" not in forgetter and "forget_tokens" in forgetter
    assert AccessToken.objects.get(pk=alice.pk).status == AccessToken.Status.VALID
