"""social-app-django's own URLs, as a site using the stock backend has them."""

from django.urls import include, path

urlpatterns = [path("", include("social_django.urls", namespace="social"))]
