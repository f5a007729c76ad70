"""The token admin as a person sees it in Chromium at 1280 and 1400 px: every column of the list on the screen."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from mwsso.models import AccessToken
from tests.conftest import SITE_HOST

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
User = get_user_model()
WIDTH = 1400


def admin_token_list(page, live_server, width: int = WIDTH) -> None:  # type: ignore[no-untyped-def]
    """A superuser signs in to the admin at ``width`` pixels, bound for the access token list."""
    User.objects.create_superuser("admin", "admin@example.org", "pw")
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(live_server.url + "/admin/login/?next=/admin/mwsso/accesstoken/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")


@pytest.mark.parametrize("width", [1280, WIDTH])  # 1280: a common laptop screen
def test_token_list_columns_fit(page, screenshot, live_server, login, width):
    for name in ("Alice", "Bob", "Zoë Ünïcode-Test", "Admin Sysop"):
        assert login(Client(HTTP_HOST=SITE_HOST), name).status_code == 302
    # The widest cells: the longest status label, and a time in every date column.
    AccessToken.objects.filter(user__username="Bob").update(status=AccessToken.Status.ERROR, last_used=timezone.now())
    admin_token_list(page, live_server, width)
    page.wait_for_url("**/admin/mwsso/accesstoken/")
    screenshot(f"token-list-{width}")
    headers = page.locator("#result_list thead th")
    assert headers.count() >= 5
    for i in range(headers.count()):
        box = headers.nth(i).bounding_box()
        assert box and box["x"] + box["width"] <= width, (headers.nth(i).inner_text(), box)
    # Nothing scrolls sideways: the page is no wider than the window, and no column is cut off inside the list.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    results = page.locator("#changelist .results")
    assert results.evaluate("element => element.scrollWidth <= element.clientWidth"), results.evaluate(
        "element => [element.scrollWidth, element.clientWidth]"
    )
    for heading in ("Status", "Last used", "Last verified"):
        assert page.locator("#result_list thead th", has_text=heading).first.is_visible(), heading


def test_token_page_offers_verify_and_forget(page, screenshot, live_server, login):
    assert login(Client(HTTP_HOST=SITE_HOST), "Alice").status_code == 302
    admin_token_list(page, live_server)
    page.click("#result_list tbody th a")
    assert "of Alice on 127.0.0.1:" in page.locator("#content h2").first.inner_text()
    screenshot("token-page")
    page.click("input[name=_verify]")
    assert "Checked 1 access token with the wiki: 1 valid." in page.locator(".messagelist").inner_text()
    page.click("button.mwsso-forget")
    assert "The wiki still lists the grant" in page.locator("#content").inner_text()
    screenshot("forget-confirmation")
