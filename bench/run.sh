#!/usr/bin/env bash
# bench/run.sh — throughput of the whole IRS pipeline against a reference.
#
# Builds a large mixed capture from ../shared/pcaps (bench/mkmixed), then
# runs, each pinned to one core and on the same file:
#   sdnli inspect --workers 1   (decode, flows, TCP reassembly, every parser,
#                                emails and files restored, events as JSON)
#     1. without session pcaps  (--session-pcaps=false: the pipeline itself)
#     2. with a pcap per session, data directory in memory (/dev/shm)
#     3. with a pcap per session, data directory on this machine's disk
#   ndpiReader -n 1             (nDPI 4.2: flow classification only)
# and prints packets/s for each and the ratios. Wall-clock, best of RUNS.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
runs=${RUNS:-3}
packets=${PACKETS:-450000}
shared=${SHARED:-../shared/pcaps}

command -v ndpiReader >/dev/null || { echo "bench: ndpiReader missing (apt-get install libndpi-bin)" >&2; exit 1; }
go build -o "$out/sdnli" ./cmd/sdnli
go build -o "$out/mkmixed" ./bench/mkmixed
[ -s "$out/mixed.pcap" ] || "$out/mkmixed" -o "$out/mixed.pcap" -packets "$packets" "$shared" 2>/dev/null
total=$(capinfos -c -M "$out/mixed.pcap" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')
[ -n "$total" ] || total=$packets

best() { # best wall time in ns of RUNS runs of "$@"
  local best=0 t0 t1 d
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N)
    d=$((t1 - t0)); { [ "$best" = 0 ] || [ "$d" -lt "$best" ]; } && best=$d
  done
  echo "$best"
}

shm=/dev/shm/sdnli-bench-$$
trap 'rm -rf "$shm" "$out/data"' EXIT
run_sdnli() { # data directory, then extra flags
  local dir=$1; shift
  rm -rf "$dir"; taskset -c 0 "$out/sdnli" inspect --quiet --workers 1 --data-dir "$dir" "$@" "$out/mixed.pcap"
}
pipe_ns=$(best run_sdnli "$shm" --session-pcaps=false)
mem_ns=$(best run_sdnli "$shm")
disk_ns=$(best run_sdnli "$out/data")
ndpi_ns=$(best taskset -c 0 ndpiReader -i "$out/mixed.pcap" -n 1 -q)
events=$(run_sdnli "$shm" | wc -l)

awk -v n="$total" -v p="$pipe_ns" -v a="$mem_ns" -v d="$disk_ns" -v b="$ndpi_ns" -v ev="$events" 'BEGIN {
  pp = n / (p / 1e9); pa = n / (a / 1e9); pd = n / (d / 1e9); pb = n / (b / 1e9)
  printf "capture: %d packets (bench/out/mixed.pcap, built from the shared captures), %d events\n", n, ev
  f = "%-46s %8.0f packets/s  (%.0f ms)\n"
  printf f, "sdnli inspect, 1 core, no session pcaps:", pp, p / 1e6
  printf f, "sdnli inspect, 1 core, session pcaps in RAM:", pa, a / 1e6
  printf f, "sdnli inspect, 1 core, session pcaps on disk:", pd, d / 1e6
  printf f, "ndpiReader 4.2, 1 core (classifies only):", pb, b / 1e6
  printf "ratio sdnli / ndpiReader: %.2f without session pcaps, %.2f with them in RAM\n", pp / pb, pa / pb
}'
