"""``python -m mwsso_devwiki``: serve a local wiki until Ctrl-C or SIGTERM (see ``cli``)."""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
