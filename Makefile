# Open120: `make run` serves the whole system on embedded defaults; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP_STAMP := $(VENV)/.requirements-installed
NPM_STAMP := node_modules/.package-lock.json
HOST ?= 127.0.0.1
PORT ?= 8000
# Links in SMS, surveys and Open311 answers; follows PORT unless set.
PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: run devenv test install lint messages bench bench-tickets bench-voice bench-kakao bench-video bench-reports clean

$(PIP_STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

install: $(PIP_STAMP) $(NPM_STAMP)

run: install devenv
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py load_demo
	@echo "Open120 → http://$(HOST):$(PORT)/  (Ctrl+C stops the web server and the worker)"
	DEBUG=1 HOST=$(HOST) PORT=$(PORT) PUBLIC_BASE_URL="$(PUBLIC_BASE_URL)" PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile

# var/development.env: this checkout's SECRET_KEY and PUBLIC_BASE_URL, read by the settings,
# so `python manage.py …` in another shell works as the README shows and matches the server.
devenv: $(PIP_STAMP)
	$(PY) -m callcenter.devenv --public-base-url "$(PUBLIC_BASE_URL)"

test: install
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

messages: install
	DEBUG=1 $(PY) manage.py makemessages -l ko --ignore=.venv --ignore=node_modules --ignore=tests --ignore=bench
	DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv --ignore=node_modules

clean:
	rm -rf $(VENV) node_modules var staticfiles

# Chats per scenario; each runs the app and the bare echo floor (bench/realtime.py --help).
BENCH_CHATS ?= 200,1000
bench: install
	$(PY) bench/realtime.py --chats $(BENCH_CHATS)

bench-tickets: install
	$(PY) bench/tickets.py

# The phone webhooks (signed, two processes) beside a bare view of this project; then whole
# simulated calls end to end (IVR, queue, offer, accept, talk, hang-up).
bench-voice: install
	$(PY) bench/voice.py
	$(PY) bench/voice_call.py

# /kakao/skill with a 10,000-article knowledge base, two processes (bench/kakao.py --help).
bench-kakao: install
	$(PY) bench/kakao.py

# Sign-language video calls in Debian's chromium: the agent's accept to "connected" on both
# sides, over several calls (bench/video.py --help).
bench-video: install
	$(PY) bench/video.py

# Five million generated contacts in PostgreSQL (open120_bench_reports): generation, rollup
# rebuild, the report page by day for a month and a year, rollups vs raw (bench/reports.py --help).
BENCH_CONTACTS ?= 5000000
bench-reports: install
	$(PY) bench/reports.py --contacts $(BENCH_CONTACTS)
