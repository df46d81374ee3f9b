# Skein: two commands do everything.
#   make demo   install what is missing, build, start the sandbox (TPC-H SF 0.1) and watch it
#   make test   install what is missing, then formatting, clippy and every test against real servers
# Builds go to $CARGO_TARGET_DIR (default ~/.cache/skein-target), outside the clone, so they
# are reused across clones.

export CARGO_TARGET_DIR ?= $(HOME)/.cache/skein-target
SKEIN := $(CARGO_TARGET_DIR)/debug/skein
DEMO_SCALE ?= 0.1

.PHONY: setup build demo test bench down

setup:
	@bash scripts/setup.sh

build: setup
	cargo build -p skein-cli

demo: build
	$(SKEIN) sandbox up --reuse --scale $(DEMO_SCALE)
	$(SKEIN) cache list
	$(SKEIN) snapshot list --limit 10
	@echo "Watching the stack (Ctrl-C to stop watching; the sandbox keeps running; 'make down' stops it)."
	$(SKEIN) status --watch

down:
	$(SKEIN) sandbox down

test: setup
	@bash scripts/test.sh

bench: setup
	cargo bench -p skein-lake --bench refresh
	cargo bench -p skein-pg --bench lag_tick
