# Two commands: `make run` (the service on its embedded defaults) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

PORT ?= 8000

.PHONY: run test setup setup-dev chat migrate clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

## make messages: compile the Russian catalogue (Babel, from requirements.txt: no system gettext needed)
messages: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d locale -D django

## make run: install, migrate, load the demo catalogue and its simulated history, serve on http://127.0.0.1:$(PORT)
run: setup messages
	DEBUG=$${DEBUG:-true} PORT=$(PORT) $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} PORT=$(PORT) $(BIN)/python manage.py load_demo --history
	DEBUG=$${DEBUG:-true} PORT=$(PORT) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## make chat: talk to the bot in the terminal (no Telegram token needed)
chat: setup
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py load_demo
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py chat

## make test: install test dependencies and run the whole suite
test: setup-dev messages
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles media-test
