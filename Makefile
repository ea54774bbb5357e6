# Argus: `make demo` runs the platform with the Gwangju reference deployment; `make test` tests it.
# Both set up everything first: the virtual environment, the locked Python packages, and the
# Debian packages the tests need (installed with apt-get when missing; that needs root).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= $(CURDIR)/var/demo
# postgresql: the second database of every test; ffmpeg: an independent RTSP client and
# ffprobe in the media tests; chromium: the browser of the player tests (driven by Playwright);
# GStreamer's RTSP server (run by Debian's python3): an independent server for the RTSP client.

CONSOLE_VENDOR := src/argus/console/static/vendor
CONSOLE_STAMP := $(CONSOLE_VENDOR)/.installed
NPM_PACKAGES := web/node_modules

.PHONY: demo incident test lint typecheck unit bench lock sysdeps clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Argus needs Python 3.11 or newer")'
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || $(MAKE) --no-print-directory apt APT="python3-venv"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

# The console's browser libraries (Leaflet, Supercluster) from the npm registry, pinned in
# web/package-lock.json, copied where Argus serves them: nothing is fetched from a CDN at run time.
$(CONSOLE_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null 2>&1 || $(MAKE) --no-print-directory apt APT="nodejs npm"
	cd web && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(CONSOLE_VENDOR)
	cp $(NPM_PACKAGES)/leaflet/dist/leaflet.js $(NPM_PACKAGES)/leaflet/dist/leaflet.css \
		$(NPM_PACKAGES)/supercluster/dist/supercluster.min.js $(CONSOLE_VENDOR)/
	cp $(NPM_PACKAGES)/leaflet/LICENSE $(CONSOLE_VENDOR)/LICENSE.leaflet
	cp $(NPM_PACKAGES)/supercluster/LICENSE $(CONSOLE_VENDOR)/LICENSE.supercluster
	@touch $@

# Debian packages: install what is missing (needs root, or sudo).
sysdeps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v ffprobe >/dev/null 2>&1 || missing="$$missing ffmpeg"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	/usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0')" >/dev/null 2>&1 || \
		missing="$$missing python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly"; \
	if [ -n "$$missing" ]; then $(MAKE) --no-print-directory apt APT="$$missing"; fi

apt:
	@if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "need root to install Debian packages:$(APT)"; exit 1; fi; \
	echo "installing Debian packages:$(APT)"; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $(APT) >/dev/null

demo: $(STAMP) $(CONSOLE_STAMP)
	ARGUS_DATA_DIR=$(DEMO_DIR) $(BIN)/argus db upgrade
	@# the demo accounts, and four district PTZ cameras touring their enforcement spots 07–22
	ARGUS_DATA_DIR=$(DEMO_DIR) $(BIN)/argus scenario gwangju --demo-accounts --demo-tours 4
	@# four cameras recorded continuously (about 1.8 GB an hour; the storage floor keeps 2 GB free)
	ARGUS_DATA_DIR=$(DEMO_DIR) $(BIN)/argus recording plan 1 2 3 4 --mode continuous
	@# the camera simulator in the background (every 50th camera sends H.265), then the API
	@# (its cameras also answer ONVIF on port 8580, so PTZ moves show in their picture)
	ARGUS_DATA_DIR=$(DEMO_DIR) $(BIN)/argus simulate --h265-every 50 & sim=$$!; \
	trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	ARGUS_DATA_DIR=$(DEMO_DIR) $(BIN)/argus serve

# While `make demo` runs: a 112 assault report near 광주광역시청, as the police room's system
# sends it (the console's map, wall and Incidents view show it at once).
incident: $(STAMP)
	ARGUS_DATA_DIR=$(DEMO_DIR) $(BIN)/argus incident raise --type assault --at 35.1468,126.9222

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) sysdeps $(CONSOLE_STAMP)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/spatial.py
	$(BIN)/python bench/import_std.py
	$(BIN)/python bench/authorize.py
	$(BIN)/python bench/audit.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/live_start.py
	$(BIN)/python bench/fanout.py
	$(BIN)/python bench/recording.py
	$(BIN)/python bench/playback.py
	$(BIN)/python bench/export.py
	$(BIN)/python bench/console_map.py
	$(BIN)/python bench/console_video.py
	$(BIN)/python bench/incident_selection.py

# Re-pin the lock file after changing pyproject.toml's dependencies.
lock: $(STAMP)
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache $(NPM_PACKAGES) $(CONSOLE_VENDOR)
