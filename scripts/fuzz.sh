#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 8s).
# New corpus entries that crash are written under the package's
# testdata/fuzz/ by go test, ready to be committed as regression inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-8s}
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | sort | while read -r f; do
  pkg=./$(dirname "${f#./}")
  tags=""
  head -n 3 "$f" | grep -q '^//go:build integration' && tags="-tags integration"
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | sed 's/^func //'); do
    echo "-- fuzz $pkg $target ($fuzztime)"
    go test $tags -run='^$' -fuzz="^${target}\$" -fuzztime="$fuzztime" "$pkg"
  done
done
