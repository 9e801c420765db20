#!/usr/bin/env bash
# The server's CPU time per request in two configurations, measured at the same time: both servers share core 0 and
# one wrk per server runs on core 1, so whatever the machine does to one (a slower minute, a noisy neighbour) it does
# to the other. The interleaved pairs of run.sh see single runs vary by 10-30 %; here the two figures of one round
# move together and their difference is the cost of what tells the configurations apart.
# Each round starts two fresh servers (each its own copy of the published app, so each has its own SQLite file), warms
# both up as run.sh does, then measures both for DURATION; the configurations swap places every round so that any
# advantage of being started first cancels out. Bounded: ROUNDS x (2 x WARMUP + 3 s + DURATION + start-up).
# Prints each round and the medians of both figures and of their difference.
# Usage: bench/wrk/side-by-side.sh [ROUNDS=6] [DURATION=8s] [WARMUP=6s]
# ARGS_A and ARGS_B are appended to the two servers' command lines; by default A is Sluice on (the server as
# configured) and B is --Sluice:Enabled=false. Example: ARGS_A=--Sluice:IetfHeaders=false bench/wrk/side-by-side.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-6}
duration=${2:-8s}
warmup=${3:-6s}
argsA=${ARGS_A:-}
argsB=${ARGS_B:---Sluice:Enabled=false}
path=/api/auth/resend-verification-public
export DOTNET_TC_CallCountingDelayMs=0
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$out"' EXIT
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
dotnet publish src/Sluice.Server -c Release -o "$out/a" >/dev/null
cp -r "$out/a" "$out/b"

start() { # $1 = directory, $2 = port, $3 = extra arguments; sets $started to the server's pid
  # shellcheck disable=SC2086
  taskset -c 0 dotnet "$1/Sluice.Server.dll" --contentRoot "$1" --urls "http://127.0.0.1:$2" --Logging:LogLevel:Default=Warning \
    --Sluice:Layers:global-ip:Rates:0=1000000000/min --Sluice:Layers:api-key:Rates:0=1000000000/min \
    --Sluice:Layers:auth:Rates:0=1000000000/15min \
    --Sluice:Layers:api-key:Key=ApiKey --Sluice:ApiKey:Header=X-Bench-Key $3 >"$1/server.log" 2>&1 &
  started=$!
}
load() { # $1 = port, $2 = connections, $3 = duration, $4 = output
  taskset -c 1 wrk -t1 -c"$2" -d"$3" -s bench/wrk/post.lua "http://127.0.0.1:$1$path" >"$4"
}
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
perRequest() { awk -v c="$1" -v r="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", c * 1000000 / hz / r}'; }

costA=(); costB=(); diff=()
for round in $(seq 1 "$rounds"); do
  # Odd rounds start A first on the first port; even rounds swap.
  if ((round % 2)); then portA=5291; portB=5292; else portA=5292; portB=5291; fi
  start "$out/a" "$portA" "$argsA"; pidA=$started
  start "$out/b" "$portB" "$argsB"; pidB=$started
  for port in "$portA" "$portB"; do
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  done
  load "$portA" 1 "$warmup" /dev/null; load "$portB" 1 "$warmup" /dev/null
  load "$portA" 16 3s /dev/null & load "$portB" 16 3s /dev/null; wait %%
  a0=$(cpu "$pidA"); b0=$(cpu "$pidB")
  load "$portA" 16 "$duration" "$out/wa.txt" & load "$portB" 16 "$duration" "$out/wb.txt"; wait %%
  a1=$(cpu "$pidA"); b1=$(cpu "$pidB")
  kill "$pidA" "$pidB"; wait "$pidA" "$pidB" 2>/dev/null || true
  ra=$(awk '/requests in/ {print $1}' "$out/wa.txt"); rb=$(awk '/requests in/ {print $1}' "$out/wb.txt")
  na=$(awk '/Non-2xx/ {print $5}' "$out/wa.txt"); nb=$(awk '/Non-2xx/ {print $5}' "$out/wb.txt")
  ua=$(perRequest $((a1 - a0)) "$ra"); ub=$(perRequest $((b1 - b0)) "$rb")
  costA+=("$ua"); costB+=("$ub"); diff+=("$(awk -v a="$ua" -v b="$ub" 'BEGIN {printf "%.2f", a - b}')")
  echo "round $round: A $ra requests (non-2xx ${na:-0}), $ua us CPU/request; B $rb requests (non-2xx ${nb:-0}), $ub us CPU/request; A - B ${diff[-1]} us"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
ma=$(median "${costA[@]}"); mb=$(median "${costB[@]}"); md=$(median "${diff[@]}")
echo "median CPU per request: A $ma us, B $mb us; median difference A - B: $md us ($(awk -v d="$md" -v b="$mb" 'BEGIN {printf "%.1f", 100 * d / b}') % of B)"
