#!/usr/bin/env bash
# Native and Chromium through the same network lab profiles in one run: for each
# profile, bench/network_suite (two `parley join` clients) and then
# bench/network_suite_web.mjs (two Chromium pages) through the same SFU build and the
# same emulated link, back to back, so the two columns of docs/performance.md come from
# the same machine state. Needs root, a built tree (PARLEY_PRESET, default ci) and
# `npm ci` in web/ (scripts/web-test does it).
#   bench/network_compare.sh [--seconds 20] [--profiles good,lossy-10,...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=20
profiles=good,lossy-10,lossy-30,burst-5,jitter-80,cap-300k,3g,outage-5s
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --profiles) profiles="$2"; shift 2 ;;
    *) echo "usage: $0 [--seconds N] [--profiles a,b,...]" >&2; exit 2 ;;
  esac
done
preset="${PARLEY_PRESET:-ci}"
export PARLEYD="${PARLEYD:-$PWD/build/$preset/server/parleyd}"
export PARLEY_CLI="${PARLEY_CLI:-$PWD/build/$preset/cli/parley}"
export PARLEY_NETEM="${PARLEY_NETEM:-$PWD/build/$preset/tests/netlab/parley-netem}"
out="build/network-compare"
mkdir -p "$out"
: > "$out/native.txt"
: > "$out/chromium.txt"
for p in ${profiles//,/ }; do
  echo "== $p: native" >&2
  "build/$preset/bench/network_suite" --seconds "$seconds" --profiles "$p" --out "$out/native" | tee -a "$out/native.txt"
  echo "== $p: chromium" >&2
  unshare -n sh -c 'ip link set lo up && exec node bench/network_suite_web.mjs "$@"' compare \
    --seconds "$seconds" --profiles "$p" | tee -a "$out/chromium.txt"
done
echo "results: $out/native.txt and $out/chromium.txt (per-second CSV and plots in $out/native)" >&2
