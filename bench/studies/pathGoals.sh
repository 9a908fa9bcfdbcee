#!/usr/bin/env bash
# Issue 13's goals for one variant (e.g. microvm: 1 CPU, cpuset "0"; the generator then gets core 1):
#   1. two namespace-path sessions of /api/light (3 repetitions each, median) agree within ±10 %;
#   2. the namespace path gives at least 1.2× the published port's figure in the same session;
#   3. docker-proxy CPU-seconds on the namespace path are 0.
# Sessions alternate (namespace, published, namespace) so slow drift on a shared machine hits both paths.
#
# Usage: bash bench/studies/pathGoals.sh name=URL,cpus=N,memoryMb=M,container=NAME [OUT_DIR]
set -euo pipefail
target=${1:?usage: bash bench/studies/pathGoals.sh name=URL,cpus=N,memoryMb=M,container=NAME [OUT_DIR]}
out=${2:-bench-results/targets-$(date +%Y%m%dT%H%M%S)}
common=(--target "$target" --endpoints /api/light --repetitions 3)
cd "$(dirname "$0")/../.."

npm run -s bench -- "${common[@]}" --out "$out/namespace-1"
npm run -s bench -- "${common[@]}" --path published --out "$out/published"
npm run -s bench -- "${common[@]}" --out "$out/namespace-2"

echo
echo "== 1. namespace session 1 vs 2 (target: within ±10 %)"
npm run -s bench -- compare "$out/namespace-1" "$out/namespace-2" --out "$out/namespace-1-vs-2.md"
echo
echo "== 2. published vs namespace, session 1 (target: namespace ≥ 1.2×, i.e. Δ req/s ≥ +20 %)"
npm run -s bench -- compare "$out/published" "$out/namespace-1" --out "$out/published-vs-namespace.md"
echo
echo "== 3. docker-proxy on each path (target: 0 CPU-seconds on the namespace path)"
for session in namespace-1 published namespace-2; do
  printf '%-12s ' "$session"
  grep -o 'docker-proxy used [^.]*\.[0-9]* CPU-seconds[^)]*)' "$out/$session/report.md" | head -n1 || echo "no docker-proxy relays this port"
done
