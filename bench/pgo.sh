#!/usr/bin/env bash
# bench/pgo.sh — refreshes cmd/sdnli/default.pgo, the CPU profile Go's
# profile-guided optimisation builds sdnli with (go build picks it up by
# itself: -pgo=auto). The profile is of the workload bench/run.sh
# measures: `sdnli inspect` over the mixed capture, every parser, one
# worker, RUNS passes merged. Built with it, that run takes 1-2% less CPU.
# A profile of older code stays usable; refresh it after large changes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
runs=${RUNS:-6}
go build -pgo=off -trimpath -o "$out/sdnli-nopgo" ./cmd/sdnli
go build -o "$out/pgoclean" ./bench/pgoclean
go build -o "$out/mkmixed" ./bench/mkmixed
[ -s "$out/mixed.pcap" ] || "$out/mkmixed" -o "$out/mixed.pcap" -packets "${PACKETS:-450000}" "${SHARED:-../shared/pcaps}" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for i in $(seq 1 "$runs"); do
  "$out/sdnli-nopgo" inspect --quiet --workers 1 --session-pcaps=false --data-dir "$tmp/data" \
    --cpuprofile "$tmp/cpu$i.prof" "$out/mixed.pcap" >/dev/null
  rm -rf "$tmp/data"
done
go tool pprof -proto "$tmp"/cpu*.prof > "$tmp/merged.pprof"
# no directory of this machine in the committed file
"$out/pgoclean" -i "$tmp/merged.pprof" -o cmd/sdnli/default.pgo
echo "cmd/sdnli/default.pgo: $runs passes of sdnli inspect over $out/mixed.pcap"
