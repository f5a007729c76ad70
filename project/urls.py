from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path

from project import views

urlpatterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("profile/sandbox/", views.sandbox_edit, name="sandbox_edit"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("", include("mwsso.urls")),
]
