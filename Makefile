# sdnli — make targets. `make help` lists them.
SHELL := /bin/bash
BIN   := bin/sdnli

.PHONY: help build demo test unit fuzz bench pgo lint clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## build bin/sdnli
	go build -o $(BIN) ./cmd/sdnli

demo: ## the main job: install what is missing, run the live demo (Ctrl-C stops and cleans up)
	bash scripts/demo.sh

test: ## every test: installs and starts what it needs, gofmt, vet, staticcheck, unit + integration (race), short fuzz
	bash scripts/test.sh

unit: ## unit tests only (no root, no services)
	go test -race ./...

fuzz: ## fuzz every target for FUZZTIME (default 60s each)
	FUZZTIME=$${FUZZTIME:-60s} bash scripts/fuzz.sh

bench: ## benchmarks: pipeline packets/s and sdnli inspect vs ndpiReader on a mixed capture
	bash bench/run.sh

pgo: ## refresh cmd/sdnli/default.pgo, the profile sdnli is built with, from the benchmark's workload
	bash bench/pgo.sh

lint: ## gofmt, go vet and staticcheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	go vet -tags integration ./...
	go tool staticcheck ./...
	go tool staticcheck -tags integration ./...

clean: ## remove build and benchmark outputs
	rm -rf bin bench/out
