"""Internal: mwsso's plumbing inside social-core and social-app-django. Nothing here is a public API.

- ``loginstate``: a social-app-django storage whose association lookup also loads the stored identity and
  token, so a returning sign-in compares without another query;
- ``transaction``: the sign-in's one transaction, begun at its first write (and the copy of social-core's
  pipeline loop it needs; tests/test_social_core_internals.py holds it to upstream's);
- ``callbacks``: what a callback is checked for before anything in it is believed;
- ``handshakes``: pending sign-in handshakes dropped from a session whenever its user changes.

Where social-core's behaviour is relied on beyond its documented extension points, a test in
tests/test_social_core_internals.py fails when it changes.
"""
