"""mwsso's views: signing in (``signin``), signing out (``logout``), and the page for a site's own misconfiguration.

``mwsso.urls`` routes them; the names below stay importable from ``mwsso.views``.
"""

from mwsso.views.logout import LogoutView
from mwsso.views.signin import begin, complete, login_error, sign_in_page

__all__ = ["LogoutView", "begin", "complete", "login_error", "sign_in_page"]
