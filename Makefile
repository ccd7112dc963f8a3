# packshot — the everyday commands. `make run` and `make test` are all a newcomer needs.
GO ?= go
GOTEST_FLAGS ?= -race -count=1 -timeout 15m

.PHONY: run build test test-go lint generate generate-check

## run: start the API, the dispatcher and (with no DATABASE_URL) a private PostgreSQL
run:
	$(GO) run ./cmd/packshot serve

## build: compile the binary into bin/packshot
build:
	$(GO) build -o bin/packshot ./cmd/packshot

## test: every test, against a real PostgreSQL (PACKSHOT_TEST_DATABASE_URL or a throwaway cluster)
test: test-go

test-go:
	$(GO) test $(GOTEST_FLAGS) ./...

## lint: gofmt, go vet and staticcheck must all be clean
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

## generate: regenerate the sqlc code in db/
generate:
	$(GO) tool sqlc generate

## generate-check: fail when generated code is stale
generate-check:
	$(GO) tool sqlc diff
