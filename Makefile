# pink's build and test entry points. `make test` is what CI runs (.ci/run).

GO ?= go
PKGS := ./...

.PHONY: dev build test lint unit

## dev: run pink dev (embedded etcd, scheduler, worker, API on 127.0.0.1:8080)
dev:
	$(GO) run ./cmd/pink dev

## build: build the pink binary into bin/
build:
	$(GO) build -o bin/pink ./cmd/pink

## test: formatting, vet, and every test with the race detector
test: lint unit

lint:
	@out="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
