# source-activecampaign: build, test, demo, sync, bench.
# Needs only Rust (rustup) and make; everything else is installed on first use.

WASMTIME_VERSION := 48.0.8
MUTANTS_VERSION  := 27.1.0
TARGET           := wasm32-wasip2
COMPONENT        := target/$(TARGET)/release/source_activecampaign.wasm
CARGO_BIN        := $(HOME)/.cargo/bin
export PATH      := $(CARGO_BIN):$(PATH)
SERVER           := target/release/ac-test-server
HOST             := target/host/ac-host
OUT              ?= out

.PHONY: all build wheel tools lint pyenv test conformance unit mutants demo sync sync-demo bench host bench-host clean

all: build

## tools: the wasm32-wasip2 target and the pinned wasmtime CLI (built once, ~15 min, then reused)
tools:
	@rustup target list --installed | grep -qx $(TARGET) || rustup target add $(TARGET)
	@if ! wasmtime --version 2>/dev/null | grep -q "^wasmtime $(WASMTIME_VERSION)"; then \
	  echo "installing wasmtime-cli $(WASMTIME_VERSION) (once; takes a while)"; \
	  cargo install wasmtime-cli --version $(WASMTIME_VERSION) --locked; \
	fi

## build: the release component (connector.json names its path)
build:
	@rustup target list --installed | grep -qx $(TARGET) || rustup target add $(TARGET)
	cargo build --release --target $(TARGET) -p source-activecampaign
	@ls -l $(COMPONENT) | awk '{print "component: " $$9 " (" $$5 " bytes)"}'

## wheel: dist/source_activecampaign-<version>-py3-none-any.whl, the component and its Python
## runner on wasmtime's Python package (python/; standard library only, no build backend)
wheel: build
	python3 python/build_wheel.py $(COMPONENT) dist

$(SERVER): $(shell find tests/acserver/src -name '*.rs') tests/acserver/Cargo.toml
	cargo build --release -p ac-test-server

## pyenv: Airbyte's protocol models, the Singer targets, Meltano and PyAirbyte, in .venv/ (once)
pyenv:
	bash tests/python/setup_venv.sh

## lint: rustfmt's layout, the layers of src/ (scripts/layers.py: no import from a layer above,
## no circle of files inside a folder), no issue numbers in the tree, clippy without warnings, native (the workspace, ac-host included)
## and for wasm32-wasip2, items crate-private unless another crate uses them (`unreachable_pub`
## denied in Cargo.toml's [lints]), and no production function over 80 lines in src/ and
## host/src/ (scripts/long_functions.py); `make test` runs it first and stops on any finding.
## It adds 5-20 s after a change (1 s when nothing changed); the first run also checks
## ac-host's wasmtime libraries (about 3 minutes, once).
lint:
	@rustup target list --installed | grep -qx $(TARGET) || rustup target add $(TARGET)
	@rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt
	cargo fmt --all --check
	python3 scripts/layers.py src
	python3 scripts/layers.py --negative-control src
	@! git grep -nIiE '\bissues? #?[0-9]+' -- . ':!tests/fixtures' || { echo 'say the behaviour, not an issue number'; exit 1; }
	python3 scripts/long_functions.py --max 80 src host/src
	python3 scripts/type_schemas.py --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --target $(TARGET) -p source-activecampaign --all-targets -- -D warnings

## test: the Python tools' self-test (what the targets and models accept), unit tests (native)
## and integration tests through the wasmtime CLI, including the checks with Airbyte's protocol
## models, real Singer targets, the README's Meltano project and PyAirbyte snippet run twice, and
## the conformance checkers (singer-check-tap, airbyte-cdk's standard tests, pyab validate);
## the wheel in a fresh venv without the CLI (tests/acserver/tests/wheel.rs: about 1.5 minutes,
## 2 the first time, kept in target/wheel-test/ per wheel); then ac-host's unit and integration tests (host/tests), built once in the `host` profile
test: lint tools build wheel pyenv
	bash tests/python/selftest.sh
	COMPONENT=$(CURDIR)/$(COMPONENT) cargo test --workspace --exclude ac-host --lib --bins --tests
	COMPONENT=$(CURDIR)/$(COMPONENT) cargo test --profile host -p ac-host

## conformance: only the ecosystems' own checkers (singer-check-tap, airbyte-cdk's standard source
## tests and their negative control, pyab validate) on the test server; `make test` runs them too
conformance: tools build pyenv
	COMPONENT=$(CURDIR)/$(COMPONENT) cargo test -p ac-test-server --test conformance

## unit: native unit tests only (milliseconds)
unit:
	cargo test --lib -p source-activecampaign

## mutants: mutation testing of the pure core with cargo-mutants (installed once, pinned) and the
## hand-made rule mutants; not part of test (about an hour on 2 cores, see docs/mutation-testing.md). Narrow it with
## MUTANTS_ARGS="--re src/state", speed it with MUTANTS_JOBS=2
mutants:
	@if ! cargo mutants --version 2>/dev/null | grep -q "^cargo-mutants $(MUTANTS_VERSION)$$"; then \
	  echo "installing cargo-mutants $(MUTANTS_VERSION) (once; takes a few minutes)"; \
	  cargo install cargo-mutants --version $(MUTANTS_VERSION) --locked; \
	fi
	bash scripts/mutants.sh $(OUT)/mutants $(MUTANTS_ARGS)

## demo: a full sync of a bundled sample account (test server on loopback, no account needed)
demo: tools build $(SERVER)
	bash scripts/demo.sh $(COMPONENT) $(SERVER) $(OUT)/demo

## sync: the main job against a real account: make sync CONFIG=path/to/config.json [OUT=dir]
sync: tools build
	@test -n "$(CONFIG)" || { echo "usage: make sync CONFIG=config.json [OUT=out]"; exit 2; }
	bash scripts/sync.sh $(COMPONENT) "$(CONFIG)" $(OUT)/sync

## sync-demo: make sync twice against the bundled test server (full, then incremental)
sync-demo: tools build $(SERVER)
	bash scripts/sync_demo.sh $(COMPONENT) $(SERVER) $(OUT)/sync-demo

## bench: throughput and cost figures against the test server (see docs/benchmarks.md)
bench: tools wheel $(SERVER)
	WHEEL=$$(ls -t dist/source_activecampaign-*-py3-none-any.whl | head -1) bash scripts/bench.sh $(COMPONENT) $(SERVER) $(OUT)/bench

## host: ac-host, the wasmtime host (host/; one profile, `host`, for build, test and bench, so
## wasmtime is compiled once)
host:
	cargo build --profile host -p ac-host

## bench-host: 1, 8 and 50 accounts at once through ac-host, each its own key and rate limit on one
## test server (SERVERS=each: a test-server process per account)
bench-host: build host $(SERVER)
	python3 scripts/bench_host.py $(HOST) $(COMPONENT) $(SERVER) $(OUT)/bench-host

clean:
	cargo clean
	rm -rf $(OUT) dist
