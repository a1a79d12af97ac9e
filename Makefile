# pink's build and test entry points. `make test` is what CI runs (.ci/run).

GO ?= go
PKGS := ./...
# apt-get needs root; use sudo when not running as root.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: dev build test deps helm lint unit dashboards bench console-screenshots

## dev: run pink dev (embedded etcd, scheduler, worker, API on 127.0.0.1:8080)
dev:
	$(GO) run ./cmd/pink dev

## build: build the pink binary into bin/
build:
	$(GO) build -buildvcs=auto -o bin/pink ./cmd/pink

## test: install the test tools, then formatting, vet, and every test with the race detector
test: deps lint unit

## deps: the tools the tests run for real (Debian packages): prometheus, promtool, alertmanager, amtool,
## chromium (with a font) for the console's browser tests, and bash (bash-completion), zsh and fish
## for the shell-completion tests, python3 for the Python worker library's tests, and curl for the
## documents' curl walk-throughs.
## The real etcd server the chaos test runs is built from go.mod by the test itself.
## helm (for the chart's tests) is built from the Go module proxy into .tools/ at HELM_VERSION.
HELM_VERSION := v4.3.2
deps: helm
	@if command -v prometheus >/dev/null && command -v promtool >/dev/null && command -v amtool >/dev/null && \
		{ command -v prometheus-alertmanager || command -v alertmanager; } >/dev/null && \
		[ -x /usr/bin/chromium ] && [ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] && \
		[ -e /usr/share/bash-completion/bash_completion ] && command -v zsh >/dev/null && command -v fish >/dev/null && \
		command -v python3 >/dev/null && command -v curl >/dev/null; then \
		echo "prometheus, promtool, alertmanager, amtool, chromium, bash-completion, zsh, fish, python3 and curl are installed"; \
	else \
		echo "installing prometheus, prometheus-alertmanager, chromium, fonts-dejavu-core, bash-completion, zsh, fish, python3 and curl (apt)"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			prometheus prometheus-alertmanager chromium fonts-dejavu-core bash-completion zsh fish python3 curl >/dev/null; \
	fi

## helm: the real helm, built once into .tools/helm (about 2.5 minutes cold)
helm:
	@if [ -x .tools/helm ] && [ "$$(cat .tools/helm.version 2>/dev/null)" = "$(HELM_VERSION)" ]; then \
		echo "helm $(HELM_VERSION) is installed (.tools/helm)"; \
	else \
		echo "building helm $(HELM_VERSION) into .tools/ (go install)"; \
		GOBIN=$(CURDIR)/.tools $(GO) install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION) && \
		echo "$(HELM_VERSION)" > .tools/helm.version; \
	fi

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## unit: every test with the race detector; prints the chaos test's figures (e2e.TestChaos)
unit:
	@figures="$$(mktemp)"; \
	PINK_CHAOS_FIGURES="$$figures" $(GO) test -race -count=1 -timeout 20m $(PKGS); rc=$$?; \
	if [ -s "$$figures" ]; then echo "chaos test figures (docs/guarantees.md):"; cat "$$figures"; fi; \
	rm -f "$$figures"; exit $$rc

## dashboards: regenerate dashboards/*.json from internal/dashboards
dashboards:
	$(GO) test ./internal/dashboards -run TestCommittedJSONIsGenerated -update

## console-screenshots: retake docs/console/*.png with the console's browser tests
console-screenshots: deps
	mkdir -p docs/console
	PINK_CONSOLE_SCREENSHOTS="$(CURDIR)/docs/console" $(GO) test -count=1 -run 'TestConsole' ./e2e

## bench: the Go benchmarks of the hot paths, 6 times each (compare with benchstat against
## docs/go-bench.txt); the cluster benchmarks are scripts/bench.sh (docs/benchmarks.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./pkg/job ./pkg/snapshot ./internal/scheduler ./internal/store ./internal/cron
