"""An allauth site's URLs: the admin, allauth's accounts (with the provider's), and a home page saying who is signed in."""

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def home(request: HttpRequest) -> HttpResponse:
    who = request.user.get_username() if request.user.is_authenticated else "nobody"
    return HttpResponse(f"Signed in as {who}.", content_type="text/plain")


urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", home, name="home"),
]
