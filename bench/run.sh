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
# and prints packets/s (wall clock) and packets per CPU-second (user +
# system time: steadier on a busy machine) for each, best of RUNS, and
# the ratios; then runs the two tools in RUNS pairs, back to back, and
# prints the median and range of the pairs' ratios, which the drift of a
# shared machine's speed between minutes moves less.
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

timed() { # "wall_ms cpu_ms" of one run of "$@"
  local r
  r=$( { TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1 | tail -1)
  awk '{printf "%d %d\n", $1 * 1000, ($2 + $3) * 1000}' <<<"$r"
}

best() { # "wall_ms cpu_ms": the least of each over RUNS runs of "$@"
  local bw=0 bc=0 w c
  for _ in $(seq 1 "$runs"); do
    [ -z "${clean:-}" ] || rm -rf "$clean"
    read -r w c < <(timed "$@")
    { [ "$bw" = 0 ] || [ "$w" -lt "$bw" ]; } && bw=$w
    { [ "$bc" = 0 ] || [ "$c" -lt "$bc" ]; } && bc=$c
  done
  echo "$bw $bc"
}

shm=/dev/shm/sdnli-bench-$$
trap 'rm -rf "$shm" "$out/data"' EXIT
sdnli_inspect() { # data directory, then extra flags
  local dir=$1; shift
  taskset -c 0 "$out/sdnli" inspect --quiet --workers 1 --data-dir "$dir" "$@" "$out/mixed.pcap"
}
read -r pipe_w pipe_c < <(clean=$shm best sdnli_inspect "$shm" --session-pcaps=false)
read -r mem_w mem_c < <(clean=$shm best sdnli_inspect "$shm")
read -r disk_w disk_c < <(clean=$out/data best sdnli_inspect "$out/data")
ndpi() { taskset -c 0 ndpiReader -i "$out/mixed.pcap" -n 1 -q; }
read -r ndpi_w ndpi_c < <(best ndpi)
# This machine's speed drifts between minutes: the two tools also run in
# pairs, back to back, and each pair gives a ratio (wall time).
ratios=""
for _ in $(seq 1 "$runs"); do
  rm -rf "$shm"
  read -r sw _ < <(timed sdnli_inspect "$shm" --session-pcaps=false)
  read -r nw _ < <(timed ndpi)
  ratios="$ratios $(awk -v s="$sw" -v n="$nw" 'BEGIN {printf "%.3f", n / s}')"
done
rm -rf "$shm"
events=$(sdnli_inspect "$shm" | wc -l)

awk -v n="$total" -v ev="$events" \
  -v pw="$pipe_w" -v pc="$pipe_c" -v aw="$mem_w" -v ac="$mem_c" \
  -v dw="$disk_w" -v dc="$disk_c" -v bw="$ndpi_w" -v bc="$ndpi_c" 'BEGIN {
  printf "capture: %d packets (bench/out/mixed.pcap, built from the shared captures), %d events\n", n, ev
  printf "%-46s %12s %14s\n", "", "packets/s", "packets/CPU-s"
  f = "%-46s %12.0f %14.0f\n"
  printf f, "sdnli inspect, 1 core, no session pcaps", n / pw * 1000, n / pc * 1000
  printf f, "sdnli inspect, 1 core, session pcaps in RAM", n / aw * 1000, n / ac * 1000
  printf f, "sdnli inspect, 1 core, session pcaps on disk", n / dw * 1000, n / dc * 1000
  printf f, "ndpiReader 4.2, 1 core (classifies only)", n / bw * 1000, n / bc * 1000
  printf "ratio sdnli / ndpiReader (wall): %.2f without session pcaps, %.2f with them in RAM\n", bw / pw, bw / aw
}'
sorted=$(tr ' ' '\n' <<<"$ratios" | grep . | sort -n)
awk '{r[NR] = $1} END {
  printf "ratio sdnli / ndpiReader (wall), %d pairs run back to back, no session pcaps: median %.2f, range %.2f-%.2f\n", NR, r[int((NR + 1) / 2)], r[1], r[NR]
}' <<<"$sorted"
