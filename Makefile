# MedGrad Desktop: install, test, freeze and package.
#
#   make run           install (once) the app and torch (CPU) into .venv and start the demo
#   make system-libs   install the system libraries the window needs (root or sudo)
#   make install       virtual environment .venv with the app, torch (CPU) and the test tools
#   make test          the whole pytest suite, then the GUI self-test (offscreen)
#   make test-floor    the unit tests with the lowest dependency versions allowed (.ci/floors.txt)
#   make lint          ruff
#   make bundle        PyInstaller one-folder app in dist/medgrad-desktop/
#   make bundle-test   frozen self-test + tiny train/evaluate/explain, from a path with spaces
#   make deb           dist/medgrad-desktop_<version>_<arch>.deb
#   make deb-test      unpack the .deb into a scratch root and run its self-test
#   make tarball       dist/medgrad-desktop-<version>-linux-<arch>.tar.gz
#
# Windows (Inno Setup) and macOS (.app) packages are built on those systems:
# see packaging/README-packaging.md.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV    := .venv
PYTHON  := $(VENV)/bin/python
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' medgrad_desktop/__init__.py)
ARCH    := $(shell dpkg --print-architecture 2>/dev/null || uname -m)
BUNDLE  := dist/medgrad-desktop
DEB     := dist/medgrad-desktop_$(VERSION)_$(ARCH).deb
TARBALL := dist/medgrad-desktop-$(VERSION)-linux-$(ARCH).tar.gz
SCRATCH := build/scratch
STAMP   := $(VENV)/.installed
HEADLESS := QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

.PHONY: help run system-libs install test test-floor lint bundle bundle-test deb deb-test tarball clean

help:
	@sed -n 's/^#   //p' Makefile

# The system libraries Qt's window needs (medgrad_desktop/system_libraries.py): installed when
# run as root or with sudo; otherwise the exact apt command is printed and make stops.
system-libs:
	@missing="$$(python3 -m medgrad_desktop.system_libraries --missing)"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if ! command -v apt-get >/dev/null; then \
		echo "Install these system libraries with your package manager: $$missing"; exit 1; fi; \
	if [ "$$(id -u)" = 0 ]; then apt-get install -y $$missing; \
	elif command -v sudo >/dev/null; then sudo apt-get install -y $$missing; \
	else echo "Please run: sudo apt install $$missing"; exit 1; fi

# Installs into .venv only when pyproject.toml or setup.py changed since the last install
# (the package is editable, so code changes need no reinstall).
$(STAMP): pyproject.toml setup.py
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -e .
	touch $@

run: system-libs $(STAMP)
	$(VENV)/bin/medgrad-desktop

install:
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install torch==2.13.0
	$(PYTHON) -m pip install -e '.[test]'

# pytest exits non-zero (5) when it collects no test, and make stops on any non-zero exit.
test:
	$(HEADLESS) $(PYTHON) -m pytest
	rm -rf $(SCRATCH)/self-test && mkdir -p $(SCRATCH)/self-test
	$(HEADLESS) MEDGRAD_USER_DATA=$(SCRATCH)/self-test/data MEDGRAD_SETTINGS_DIR=$(SCRATCH)/self-test/settings \
		$(PYTHON) -m medgrad_desktop --self-test --screenshot $(SCRATCH)/self-test/window.png

# The oldest versions pyproject.toml allows, in their own venv: proves the floors are real.
FLOOR_VENV := .venv-floor
test-floor:
	python3 -m venv $(FLOOR_VENV)
	$(FLOOR_VENV)/bin/python -m pip install torch==2.13.0
	$(FLOOR_VENV)/bin/python -m pip install -r .ci/floors.txt
	$(FLOOR_VENV)/bin/python -m pip install --no-deps -e .
	$(HEADLESS) $(FLOOR_VENV)/bin/python -m pytest tests/unit -m "not slow" -p no:cacheprovider \
		--deselect tests/unit/test_packaging_wheel.py

lint:
	$(VENV)/bin/ruff --version >/dev/null 2>&1 || $(PYTHON) -m pip install 'ruff>=0.6'
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bundle:
	$(VENV)/bin/pyinstaller --version >/dev/null 2>&1 || $(PYTHON) -m pip install 'pyinstaller>=6.10'
	$(VENV)/bin/pyinstaller build.spec --noconfirm
	du -sh $(BUNDLE)

bundle-test:
	packaging/smoke/run_frozen.sh $(BUNDLE) "/tmp/Médgrad test dir"

deb:
	python3 packaging/linux/check_xcb_depends.py $(BUNDLE)/_internal/PySide6/Qt
	packaging/linux/build_deb.sh $(BUNDLE) dist

deb-test:
	rm -rf $(SCRATCH)/deb-root && mkdir -p $(SCRATCH)/deb-root
	test "$$(dpkg-deb --field $(DEB) Package)" = medgrad-desktop  # no pipe: grep -q + pipefail = SIGPIPE
	dpkg-deb -x $(DEB) $(SCRATCH)/deb-root
	grep -q "^exec /opt/medgrad-desktop/medgrad-desktop " $(SCRATCH)/deb-root/usr/bin/medgrad-desktop
	test -f $(SCRATCH)/deb-root/usr/share/applications/medgrad-desktop.desktop
	test -f $(SCRATCH)/deb-root/usr/share/icons/hicolor/256x256/apps/medgrad-desktop.png
	$(HEADLESS) MEDGRAD_USER_DATA=$(SCRATCH)/deb-data MEDGRAD_SETTINGS_DIR=$(SCRATCH)/deb-settings \
		$(SCRATCH)/deb-root/opt/medgrad-desktop/medgrad-desktop --self-test
	rm -rf $(SCRATCH)/deb-root $(SCRATCH)/deb-data $(SCRATCH)/deb-settings

tarball:
	tar -C dist -czf $(TARBALL) medgrad-desktop
	du -sh $(TARBALL)

clean:
	rm -rf build dist
