from django.contrib import admin
from django.urls import include, path

from project import views

urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("profile/sandbox/", views.sandbox_edit, name="sandbox_edit"),
    path("admin/", admin.site.urls),
    path("", include("mwsso.urls")),  # /login/mediawiki/, /complete/mediawiki/ and /logout/ (POST)
]
