#!/usr/bin/env bash
# Runs every sdnli test on this machine: installs and starts what the tests
# need (scripts/setup.sh), then formatting, vet, staticcheck, the unit and
# integration tests under the race detector (real MariaDB, real Open
# vSwitch, network namespaces, real mail servers), and a short run of every
# fuzz target.
# Safe to run twice.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet -tags integration ./...

# staticcheck is a tool dependency in go.mod: nothing to install. Run in
# both build configurations: the integration tag changes which files are
# checked and what counts as unused.
echo "== staticcheck"
go tool staticcheck ./...
go tool staticcheck -tags integration ./...

echo "== go test (unit + integration, race detector)"
go test -race -tags integration -timeout 30m -count=1 ./...

echo "== fuzz (short run of every fuzz target)"
FUZZTIME=${SDNLI_FUZZTIME:-8s} bash scripts/fuzz.sh

echo "== all tests passed"
