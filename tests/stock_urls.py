"""URLs of a site still on social-core's stock MediaWiki backend: social-app-django's own views."""

from django.urls import include, path

urlpatterns = [path("", include("social_django.urls", namespace="social"))]
