# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
WIKI_PORT ?= 8001
# The local wiki's state file: its users, consumers, grants and tokens survive a restart, so the demo's stored
# tokens stay valid. WIKI_FRESH=1 starts the wiki from its built-ins instead (the demo's tokens then read as revoked).
WIKI_STATE ?= devwiki-state.json
WIKI_FRESH ?=
STAMP := $(VENV)/.installed
# Installed over requirements.txt's pins (the Django 6 pass); empty for the base.
EXTRA_REQUIREMENTS ?=

# The second supported combination: Django 6.1 on Python 3.13, in its own virtual environment.
DJANGO6 := Django==6.1.3
DJANGO6_VENV := .venv-dj6
# The first Python 3.13 that really runs (a pyenv shim exists even where it would refuse to run).
PYTHON313 ?= $(shell for p in python3.13 $$HOME/.pyenv/versions/3.13*/bin/python3.13; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && { command -v "$$p"; break; }; done)

DATABASE_URL_POSTGRES ?= postgres://postgres@127.0.0.1:5432/mwsso
DATABASE_URL_MARIADB ?= mysql://root@127.0.0.1:3306/mwsso

.PHONY: install install-django6 run test test-postgres test-mariadb test-django6 package lint typecheck format-check format bench clean

$(STAMP): requirements.txt pyproject.toml devwiki/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(if $(EXTRA_REQUIREMENTS),$(PY) -m pip install --quiet $(EXTRA_REQUIREMENTS))
	$(PY) -m pip install --quiet --no-deps -e . -e ./devwiki
	touch $(STAMP)

# Only the virtual environments (the other targets install as needed).
install: $(STAMP)

install-django6:
	@test -n "$(PYTHON313)" || { echo "Python 3.13 not found: set PYTHON313=/path/to/python3.13" >&2; exit 1; }
	$(MAKE) install VENV=$(DJANGO6_VENV) PYTHON="$(PYTHON313)" EXTRA_REQUIREMENTS="$(DJANGO6)"

# The demo site on SQLite with the local wiki (http://127.0.0.1:$(WIKI_PORT)) beside it, its state in $(WIKI_STATE).
# DJANGO_DEBUG=1 (unless set): development mode, with a development-only SECRET_KEY when DJANGO_SECRET_KEY is unset.
# Stopping stops both, quietly, whichever way: Ctrl-C (the terminal signals the whole process group), a TERM to
# make alone (make passes it on to this shell), or the site ending by itself (e.g. its port is taken). tests/test_make_run_stop.py checks it.
run: $(STAMP)
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py migrate --noinput
	@echo "Local wiki: http://127.0.0.1:$(WIKI_PORT)/w/index.php   Demo site: http://127.0.0.1:$(PORT)/"
	@# Both servers in the background, so that the shell is in "wait", where a trap runs at once (a shell runs
	@# no trap while a foreground command runs). The trap signals exactly their two PIDs, waits for them (the
	@# wiki saves its state) and exits 0, so make reports no error (runserver's status if it ended by itself). Never "kill 0": it signals this shell (and
	@# make) too, and dash re-ran the trap until it crashed with "Segmentation fault".
	@stop() { trap "" INT TERM; kill $$site $$wiki 2>/dev/null; wait; exit $${1:-0}; }; \
	trap stop INT TERM; \
	DJANGO_DEBUG=$${DJANGO_DEBUG:-1} $(PY) manage.py mwsso_devwiki --host 127.0.0.1 --port $(WIKI_PORT) \
		--site-url http://127.0.0.1:$(PORT) --state $(WIKI_STATE) $(if $(WIKI_FRESH),--fresh) & wiki=$$!; \
	MWSSO_WIKI_URL=$${MWSSO_WIKI_URL:-http://127.0.0.1:$(WIKI_PORT)/w/index.php} DJANGO_DEBUG=$${DJANGO_DEBUG:-1} \
	$(PY) manage.py runserver 127.0.0.1:$(PORT) & site=$$!; \
	wait $$site; stop $$?

# pytest-xdist workers for the tests that can share the machine; JOBS=0 runs them in one process. The tests
# spend much of their time waiting on the local wiki over HTTP, so more workers than cores pay (docs/contributing.md).
JOBS ?= 3
# How tests are shared out among the workers (pytest-xdist's --dist).
DIST ?= loadgroup
XDIST = -n $(JOBS) --dist $(DIST)

# Two pytest runs: the social-auth site's, then a django-allauth site's (mwsso.contrib.allauth), whose settings
# differ for a whole run (tests/allauth/settings.py). Each in two parts: the tests that can share the machine on
# $(JOBS) workers, then those that cannot (marked serial, browser or production; tests/conftest.py) one at a time.
# Exit 5 (PYTEST_ARGS named only the other run's tests, or no serial test) is fine.
define run_tests
	$(1) $(PY) -m pytest $(XDIST) --serial=skip $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(1) $(PY) -m pytest --serial=only $(PYTEST_ARGS) || [ $$? -eq 5 ]
	$(1) $(PY) -m pytest $(XDIST) --serial=skip --ds=tests.allauth.settings $(PYTEST_ARGS) tests/allauth || [ $$? -eq 5 ]
	$(1) $(PY) -m pytest --serial=only --ds=tests.allauth.settings $(PYTEST_ARGS) tests/allauth || [ $$? -eq 5 ]
endef

test: $(STAMP)
	$(call run_tests,)

# The whole suite on PostgreSQL or MariaDB (pytest-django creates and drops test_mwsso); .ci/run does these and more.
test-postgres: $(STAMP)
	$(call run_tests,DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_POSTGRES)})

test-mariadb: $(STAMP)
	$(call run_tests,DATABASE_URL=$${DATABASE_URL:-$(DATABASE_URL_MARIADB)})

# The whole suite on Django 6.1 and Python 3.13 (creates $(DJANGO6_VENV) the first time).
test-django6: install-django6
	$(MAKE) test VENV=$(DJANGO6_VENV) PYTHON="$(PYTHON313)" EXTRA_REQUIREMENTS="$(DJANGO6)" PYTEST_ARGS="$(PYTEST_ARGS)"

# Both distributions' sdists and wheels in dist/ (mwsso, and the local wiki mwsso-devwiki from devwiki/),
# their metadata checked by twine, their contents by tests/test_package.py.
package: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(PY) -m build --outdir dist devwiki
	$(PY) -m twine check --strict dist/*
	MWSSO_DIST_DIR=dist $(PY) -m pytest -q -p no:cacheprovider -m package tests/test_package.py

# The written rules, machine-checked: ruff's lint rules, ruff's format, and mypy (strict, django-stubs) on mwsso/.
lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# mypy with django-stubs on mwsso/ ([tool.mypy] in pyproject.toml); part of `make lint`.
typecheck: $(STAMP)
	$(PY) -m mypy

# What `ruff format` would change ([tool.ruff.format]); part of `make lint`. `make format` changes it.
format-check: $(STAMP)
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .

# Side by side with social-core's stock backend and requests-oauthlib, then mwsso alone.
bench: $(STAMP)
	$(PY) bench/compare.py
	$(PY) bench/login_bench.py
	$(PY) bench/api_bench.py
	$(PY) bench/oauth2_bench.py
	$(PY) bench/refresh_scale.py
	$(PY) bench/admin_scale.py

clean:
	rm -rf $(VENV) $(DJANGO6_VENV) db.sqlite3 $(WIKI_STATE) staticfiles artifacts dist build .mypy_cache
