"""mwsso's integrations with other Django apps; each is an app of its own that a site adds to INSTALLED_APPS."""
