#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME each (default 8s).
# An input that fails is written under the package's testdata/fuzz/ by go
# test, ready to be committed as a regression input, and fails this script.
#
# A new coverage-expanding input is minimized before fuzzing goes on, by
# default for up to 60 s: in a run this short the workers would spend
# almost all of it minimizing (a few hundred inputs tried instead of tens
# of thousands). FUZZMINIMIZE (default 1s) bounds that.
#
# Go 1.26's fuzzing coordinator can end a time-bounded run with a bare
# "context deadline exceeded" when a worker is mid-input at the deadline
# (go.dev/issue/75804, fixed in Go 1.27): no input failed, nothing was
# written. Such a run is repeated (twice at most); any other failure fails
# at once.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-8s}
minimize=${FUZZMINIMIZE:-1s}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# is_deadline_race: the run failed only by the coordinator's deadline.
is_deadline_race() {
  grep -q "context deadline exceeded" "$1" && ! grep -qE "Failing input written|panic:|fuzz_test.go:[0-9]+:" "$1"
}

run_target() { # pkg target tags
  local attempt
  for attempt in 1 2 3; do
    if go test $3 -run='^$' -fuzz="^$2\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimize" "$1" >"$log" 2>&1; then
      cat "$log"
      return 0
    fi
    cat "$log"
    if is_deadline_race "$log"; then
      echo "-- fuzz $1 $2: the coordinator's deadline race (no failing input); running it again ($attempt/3)"
      continue
    fi
    return 1
  done
  return 1
}

grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(' . | sort | while read -r f; do
  pkg=./$(dirname "${f#./}")
  tags=""
  head -n 3 "$f" | grep -q '^//go:build integration' && tags="-tags integration"
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | sed 's/^func //'); do
    echo "-- fuzz $pkg $target ($fuzztime)"
    run_target "$pkg" "$target" "$tags"
  done
done
