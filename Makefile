# The README's two commands, `make run` and `make test`, and a few more for development.
# Each installs the Debian packages it needs first (scripts/install-deps.sh).

BUILD_DIR    ?= build
SANITIZE_DIR ?= build-sanitize
JOBS         ?= $(shell nproc)
PREFIX       ?= /usr/local

SOURCES = $(shell git ls-files '*.c' '*.cpp' '*.hpp' '*.h' 2>/dev/null)

PACKAGE_DIR  ?= build-package

.PHONY: all deps build run test test-dev test-sanitize format format-check bench chaos install \
  package package-test clean

all: build

deps:
	@scripts/install-deps.sh

# Development build: warnings are errors.
build: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONDUIT_DEVELOPER_MODE=ON >/dev/null
	@cmake --build $(BUILD_DIR) -j$(JOBS)

# conduit run with its own Redis and Jira simulator under ./var; its spool is var/spool.
run: build
	@scripts/run-dev.sh $(BUILD_DIR)/core/conduit

# The whole suite, in the development build and again under AddressSanitizer and UBSan.
test: format-check test-dev test-sanitize

test-dev: build
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j$(JOBS)

test-sanitize: deps
	@cmake -S . -B $(SANITIZE_DIR) -DCMAKE_BUILD_TYPE=Debug -DCONDUIT_DEVELOPER_MODE=ON \
	  -DCONDUIT_SANITIZE=ON >/dev/null
	@cmake --build $(SANITIZE_DIR) -j$(JOBS)
	@ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j$(JOBS)

# The Debian packages (conduit, conduit-plugin-jira, conduit-sdk-dev) into out/: a release build
# for /usr, /etc/conduit and /usr/lib/conduit/plugins.
package: deps
	@scripts/install-deps.sh --package
	@cmake -S . -B $(PACKAGE_DIR) -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr \
	  -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(PACKAGE_DIR) -j$(JOBS)
	@cd $(PACKAGE_DIR) && cpack -G DEB
	@ls -1 out/*.deb

# Installs the packages into a throwaway Debian 12 root and checks them (root; downloads a base
# system the first time).
package-test: package
	@tests/packaging/package_test.sh out .

format:
	@clang-format -i $(SOURCES)

format-check: deps
	@clang-format --dry-run --Werror $(SOURCES)

bench: build
	@scripts/install-deps.sh --bench
	@$(BUILD_DIR)/bench/conduit_statemachine_bench
	@bench/ingress.sh $(BUILD_DIR)
	@bench/worker.sh $(BUILD_DIR)
	@bench/e2e.sh $(BUILD_DIR)

# The fault-injection soak (docs/BENCHMARKS.md): worker crashes, a stall, a Redis restart and a
# failing Jira under 300 deliveries; about three minutes, exits non-zero if anything was lost or
# done twice. Apart from `make bench`, which measures speed on a quiet system.
chaos: build
	@scripts/install-deps.sh --bench
	@bench/chaos.sh $(BUILD_DIR)

install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	@rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(PACKAGE_DIR) out
