# Two commands do everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
WIKI_PORT ?= 8001
STAMP := $(VENV)/.installed

.PHONY: run test test-postgres lint bench clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The demo site on SQLite with the local wiki (http://127.0.0.1:$(WIKI_PORT)) beside it.
run: $(STAMP)
	$(PY) manage.py migrate --noinput
	@echo "Local wiki: http://127.0.0.1:$(WIKI_PORT)/w/index.php   Demo site: http://127.0.0.1:$(PORT)/"
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py mwsso_devwiki --host 127.0.0.1 --port $(WIKI_PORT) & \
	MWSSO_WIKI_URL=$${MWSSO_WIKI_URL:-http://127.0.0.1:$(WIKI_PORT)/w/index.php} DJANGO_DEBUG=$${DJANGO_DEBUG:-1} \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The whole suite on PostgreSQL (pytest-django creates and drops test_mwsso); .ci/run does both and more.
test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/mwsso} $(PY) -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check mwsso project tests bench

# Side by side with social-core's stock backend and requests-oauthlib, then mwsso alone.
bench: $(STAMP)
	$(PY) bench/compare.py
	$(PY) bench/login_bench.py
	$(PY) bench/api_bench.py

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles artifacts
