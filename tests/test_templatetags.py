"""``{% mwsso_styles %}`` and ``{% mwsso_login_button %}`` on a site that is not the demo: the button brings its look."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.template import Context, RequestContext, Template
from django.test import RequestFactory

from mwsso.templatetags.mwsso import STYLESHEET

REPO = Path(__file__).resolve().parents[1]
LINK = '<link rel="stylesheet" href="/static/mwsso/mwsso.css">'
# A site of its own: no demo templates (DIRS), nothing but the app's own templates.
BARE_TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [], "APP_DIRS": True}]


@pytest.fixture
def bare_site(settings):  # type: ignore[no-untyped-def]
    settings.TEMPLATES = BARE_TEMPLATES
    return settings


def render(source: str, **context: object) -> str:
    request = RequestFactory().get("/")
    return Template(source).render(RequestContext(request, context))


def test_button_in_a_bare_template_links_the_apps_stylesheet_once(bare_site):
    html = render("{% load mwsso %}<p>{% mwsso_login_button %}</p><p>{% mwsso_login_button label='Again' %}</p>")
    assert html.count(LINK) == 1, html
    assert html.index(LINK) < html.index('<form class="mwsso-login"')
    assert html.count('class="mwsso-login-button"') == 2
    assert 'action="/login/mediawiki/"' in html and 'name="csrfmiddlewaretoken"' in html
    assert 'class="mwsso-mark"' in html and "<span>Sign in with Wikipedia</span>" in html


def test_styles_tag_in_head_and_the_button_do_not_link_twice(bare_site):
    html = render(
        "{% load mwsso %}<head>{% mwsso_styles %}</head><body>{% mwsso_login_button %}"
        "{% mwsso_login_button secondary=True %}</body>"
    )
    assert html.count(LINK) == 1 and html.index(LINK) < html.index("</head>")


def test_a_site_with_its_own_css_can_leave_the_stylesheet_out(bare_site):
    html = render("{% load mwsso %}{% mwsso_login_button styles=False secondary=True %}")
    assert "mwsso.css" not in html
    assert 'class="mwsso-login-button mwsso-secondary"' in html


def test_each_page_render_links_it_again():
    template = Template("{% load mwsso %}{% mwsso_styles %}")
    assert template.render(Context()) == template.render(Context()) == LINK


def test_stylesheet_is_found_and_served_by_staticfiles():
    path = finders.find(STYLESHEET)
    assert path and Path(path) == REPO / "mwsso" / "static" / "mwsso" / "mwsso.css"
    response = serve(RequestFactory().get("/static/mwsso/mwsso.css"), STYLESHEET, insecure=True)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/css")
    css = b"".join(response.streaming_content).decode()
    assert ".mwsso-login-button" in css and ".mwsso-error" in css


def test_stylesheet_is_themeable_dark_aware_and_shows_focus():
    css = (REPO / "mwsso" / "static" / "mwsso" / "mwsso.css").read_text()
    # Every colour of the button is a custom property a site can set.
    button = re.search(r"\.mwsso-login-button \{(.*?)\}", css, re.S).group(1)
    for prop in ("padding", "border-radius", "background", "color", "font-size"):
        assert re.search(rf"^\s*{prop}: var\(--mwsso-[a-z-]+\);", button, re.M), prop
    assert "@media (prefers-color-scheme: dark)" in css
    assert re.search(r"\.mwsso-login-button:focus-visible[^{]*\{[^}]*outline: 2px solid var\(--mwsso-focus\)", css)


def test_demo_gives_way_to_the_apps_stylesheet(client):
    css = (REPO / "project" / "static" / "demo" / "site.css").read_text()
    # The demo only themes the app's button through its custom properties; it no longer draws it.
    assert not re.search(r"\.mwsso-login-button[^{]*\{", css)
    assert "--mwsso-accent:" in css
    html = client.get("/").content.decode()
    assert html.count(LINK) == 1 and html.index(LINK) < html.index("demo/site.css") < html.index("</head>")
