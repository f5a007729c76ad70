"""The HTTP plumbing under every page and endpoint: WSGI requests and responses, the skin, wikitext."""
