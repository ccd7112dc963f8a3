# packshot — the everyday commands. `make run` and `make test` are all a newcomer needs.
GO ?= go
GOTEST_FLAGS ?= -race -count=1 -timeout 20m

.PHONY: run build test test-go test-trpc-client lint generate generate-check web e2e faults fuzz ci

## run: start the API, the dispatcher and (with no DATABASE_URL) a private PostgreSQL
run:
	$(GO) run ./cmd/packshot serve

## build: compile the binary into bin/packshot
build:
	$(GO) build -o bin/packshot ./cmd/packshot

## test: every Go test against a real PostgreSQL (PACKSHOT_TEST_DATABASE_URL or a throwaway
## cluster), then the @trpc/client compatibility suite when Node.js is installed
test: test-go test-trpc-client

test-go:
	$(GO) test $(GOTEST_FLAGS) ./...

# The tRPC compatibility suite needs Node.js. On a machine with only Go and PostgreSQL it is
# skipped with a note; CI sets REQUIRE_NODE=1 so it can never be skipped there.
test-trpc-client:
	@if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then \
		tests/trpc-client/run.sh; \
	elif [ -n "$${REQUIRE_NODE:-}" ]; then \
		echo "Node.js is required for the tRPC client suite (REQUIRE_NODE is set)"; exit 1; \
	else \
		echo "note: Node.js not installed: skipping the @trpc/client compatibility suite (tests/trpc-client)"; \
	fi

## lint: gofmt, go vet, staticcheck and go mod tidy must all be clean
lint:
	@$(GO) mod tidy -diff >/dev/null || (echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags faults ./tests/faults/
	$(GO) tool staticcheck ./...

## generate: regenerate the sqlc code, the TypeScript AppRouter type and the web app build
generate:
	$(GO) tool sqlc generate
	$(GO) run ./cmd/packshot gen ts -transformer superjson -o web/src/generated/router.ts
	web/build.sh

## generate-check: fail when any generated file is stale (sqlc, AppRouter type, web/dist)
generate-check:
	$(GO) tool sqlc diff
	@$(GO) run ./cmd/packshot gen ts -transformer superjson | diff -u web/src/generated/router.ts - \
		|| (echo "web/src/generated/router.ts is stale: run make generate"; exit 1)
	web/check-fresh.sh

## web: rebuild web/dist from web/src
web:
	web/build.sh

## e2e: the browser checks in Debian's Chromium (apt-get install chromium)
e2e:
	tests/e2e/run.sh

## faults: crash, restart, outage, rolling-restart and hostile-input scenarios
faults:
	tests/faults/run.sh

## fuzz: every fuzz target for a bounded time on its committed seed corpus
fuzz:
	tests/fuzz.sh
