# Skein: two commands do everything.
#   make demo   install what is missing, build the UI and the desktop app, start the sandbox
#               (TPC-H SF 0.1) and open the console on it: the desktop window where there is a
#               display, web mode (`skein serve`, prints its URL) where there is none
#   make test   install what is missing, then formatting, clippy, the UI build and every test
#               against real servers, in Chromium and in the desktop app
# Builds go to $CARGO_TARGET_DIR (default ~/.cache/skein-target), outside the clone, so they
# are reused across clones.

export CARGO_TARGET_DIR ?= $(HOME)/.cache/skein-target
SKEIN := $(CARGO_TARGET_DIR)/debug/skein
DESKTOP := $(CARGO_TARGET_DIR)/debug/skein-desktop
DEMO_SCALE ?= 0.1
DEMO_PROFILE := /tmp/skein-sandbox/profile.toml

.PHONY: setup build ui bindings demo web test bench down screenshot-desktop screenshot-workbench

setup:
	@bash scripts/setup.sh

ui: setup
	cd ui && npm run --silent build

# Rewrites ui/src/lib/bindings.ts from the Rust RPC types (make test fails when it is stale).
bindings:
	SKEIN_BLESS=1 cargo test -q -p skein-console --lib bindings

build: ui
	cargo build -p skein-cli -p skein-desktop

demo: build
	$(SKEIN) sandbox up --reuse --scale $(DEMO_SCALE)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  echo "Opening the desktop console on $(DEMO_PROFILE) (close the window to stop; 'make down' stops the sandbox)."; \
	  $(DESKTOP) $(DEMO_PROFILE); \
	else \
	  echo "No display: web mode. Open the URL below (Ctrl-C stops it; 'make down' stops the sandbox)."; \
	  $(SKEIN) serve --profile $(DEMO_PROFILE); \
	fi

# Web mode on the sandbox, display or not.
web: build
	$(SKEIN) sandbox up --reuse --scale $(DEMO_SCALE)
	$(SKEIN) serve --profile $(DEMO_PROFILE)

down:
	$(SKEIN) sandbox down

test: setup
	@bash scripts/test.sh

bench: build
	cargo bench -p skein-lake --bench refresh
	cargo bench -p skein-lake --bench diff
	cargo bench -p skein-lake --bench object_store
	cargo bench -p skein-pg --bench lag_tick
	cargo bench -p skein-pg --bench heartbeat
	cargo bench -p skein-console --bench routing
	cargo bench -p skein-console --bench tls
	cargo bench -p skein-console --bench metrics
	bash scripts/bench-console.sh

# The README's screenshot: the desktop window on the sandbox, under Xvfb.
screenshot-desktop: build
	bash tests/desktop/run.sh docs/screenshot-desktop.png

# The README's Workbench picture: a cached subquery joined with a live table.
screenshot-workbench: build
	bash tests/web/run.sh shot-workbench.mjs $(CURDIR)/docs/workbench.png
