#!/usr/bin/env bash
# End-to-end throughput of the reference server with Sluice on and with Sluice:Enabled=false, on loopback.
# The server runs on core 0 and wrk on core 1; PAIRS interleaved pairs of DURATION each (bounded: at most
# PAIRS x 2 x (WARMUP + DURATION + 8 s)); limits are raised so that every request passes all three layers and gets headers.
# The api-key layer reads its key from X-Bench-Key, a header the server's authentication ignores: the comparison is
# then Sluice against the bare pipeline, not against an API-key lookup in SQLite on every request.
# Each run warms up for WARMUP at one connection, then 3 s at full load: on one saturated core the runtime's tiered JIT
# cannot finish compiling, and the comparison would measure instrumented code instead of a server in steady state.
# Prints each run (with how busy each core was while wrk measured) and the medians. Usage: bench/wrk/run.sh [PAIRS=5] [DURATION=10s] [CONNECTIONS=32] [WARMUP=10s]
# SERVER_ARGS (optional) is appended to both servers' command lines, e.g. SERVER_ARGS=--Sluice:IetfHeaders=false.
set -euo pipefail
cd "$(dirname "$0")/../.."
pairs=${1:-5}
duration=${2:-10s}
connections=${3:-32}
warmup=${4:-10s}
port=5091
# Both servers get the same runtime setting: tier-up without the call-counting delay. On one saturated core the delay
# never expires (new methods keep being compiled), so hot code stays in its instrumented tier for the whole run and the
# comparison measures JIT state, not steady state. A long-running server reaches the same optimised code either way.
export DOTNET_TC_CallCountingDelayMs=0
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
dotnet publish src/Sluice.Server -c Release -o "$out/server" >/dev/null

run() { # $1 = true|false (Sluice:Enabled)
  taskset -c 0 dotnet "$out/server/Sluice.Server.dll" --contentRoot "$out/server" --urls "http://127.0.0.1:$port" \
    --Sluice:Enabled="$1" --Logging:LogLevel:Default=Warning \
    --Sluice:Layers:global-ip:Rates:0=1000000000/min --Sluice:Layers:api-key:Rates:0=1000000000/min \
    --Sluice:Layers:auth:Rates:0=1000000000/15min \
    --Sluice:Layers:api-key:Key=ApiKey --Sluice:ApiKey:Header=X-Bench-Key ${SERVER_ARGS:-} >"$out/server.log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  # Warm up lightly first (one connection), so that the single core has room for the runtime's background tier-up
  # compiler; at full load from the start it starves and hot code stays in its instrumented tier.
  taskset -c 1 wrk -t1 -c1 -d"$warmup" -s bench/wrk/post.lua "http://127.0.0.1:$port/api/auth/resend-verification-public" >/dev/null
  taskset -c 1 wrk -t1 -c"$connections" -d3s -s bench/wrk/post.lua "http://127.0.0.1:$port/api/auth/resend-verification-public" >/dev/null
  local before after cpu0 cpu1
  before=$(grep -E '^cpu[01] ' /proc/stat)
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  taskset -c 1 wrk -t1 -c"$connections" -d"$duration" --latency -s bench/wrk/post.lua "http://127.0.0.1:$port/api/auth/resend-verification-public" >"$out/wrk.txt"
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  after=$(grep -E '^cpu[01] ' /proc/stat)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  local rps non2xx requests
  rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$out/wrk.txt")
  requests=$(awk '/requests in/ {print $1}' "$out/wrk.txt")
  # The server process's CPU time (user + system, in clock ticks) per request: a second view of the same cost.
  local perRequest
  perRequest=$(awk -v a="$cpu0" -v b="$cpu1" -v r="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (b - a) * 1000000 / hz / r}')
  echo "$rps ${non2xx:-0} $(awk '/ 99%/ {print $2}' "$out/wrk.txt") $(busy "$before" "$after" cpu0) $(busy "$before" "$after" cpu1) $perRequest"
}

# Busy share of one core between two /proc/stat samples: whether the server's core (cpu0) is the bottleneck, not wrk's.
busy() { # $1 = before, $2 = after, $3 = cpu0|cpu1
  printf '%s\n%s\n' "$1" "$2" | awk -v cpu="$3" '$1 == cpu {
    idle = $5 + $6; total = 0; for (i = 2; i <= 9; i++) total += $i
    if (seen) { printf "%d%%", 100 * ((total - t0) - (idle - i0)) / (total - t0) } else { t0 = total; i0 = idle; seen = 1 } }'
}

on=(); off=(); onCpu=(); offCpu=()
for pair in $(seq 1 "$pairs"); do
  read -r r n p c0 c1 u <<<"$(run true)"; on+=("$r"); onCpu+=("$u"); echo "pair $pair Sluice on:  $r req/s, p99 $p, non-2xx $n, server core $c0 busy, wrk core $c1, server CPU $u us/request"
  read -r r n p c0 c1 u <<<"$(run false)"; off+=("$r"); offCpu+=("$u"); echo "pair $pair Sluice off: $r req/s, p99 $p, non-2xx $n, server core $c0 busy, wrk core $c1, server CPU $u us/request"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
mon=$(median "${on[@]}"); moff=$(median "${off[@]}")
echo "median Sluice on: $mon req/s; Sluice:Enabled=false: $moff req/s; ratio $(awk -v a="$mon" -v b="$moff" 'BEGIN {printf "%.3f", a/b}')"
echo "median server CPU per request: Sluice on $(median "${onCpu[@]}") us; Sluice:Enabled=false $(median "${offCpu[@]}") us"
