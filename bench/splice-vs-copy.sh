#!/usr/bin/env bash
# Throughput and proxy CPU per GiB through epoll-proxy on loopback, copy path vs --splice, with iperf3
# (one TCP stream, client -> backend), alternating the modes each round so machine noise hits both.
#
#   bench/splice-vs-copy.sh [SECONDS_PER_RUN] [ROUNDS]      (defaults: 5 3)
#   BASE_JAR=/older/epoll-proxy.jar bench/splice-vs-copy.sh   # adds mode "base": that build's copy path
#
# Prints one line per run and a median per mode, with ratios against the first mode and a direct
# (no proxy) baseline. Loopback only; every run is bounded by SECONDS_PER_RUN.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-5}"
rounds="${2:-3}"
jar="$PWD/java/target/epoll-proxy.jar"
modes="copy splice"
[ -n "${BASE_JAR:-}" ] && modes="base $modes"
command -v iperf3 >/dev/null || { echo "needs iperf3 (apt-get install iperf3)" >&2; exit 1; }
[ -f "$jar" ] || { echo "no $jar: mvn -B -DskipTests package" >&2; exit 1; }

tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

# iperf3 server on a free port below the ephemeral range
backend=$(( 20000 + RANDOM % 10000 ))
iperf3 -s -p "$backend" >/dev/null 2>&1 & pids+=($!)
sleep 0.5

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# one iperf3 run to port $1; prints "bits_per_second bytes"
run_iperf() {
  iperf3 -c 127.0.0.1 -p "$1" -t "$secs" -J > "$tmp/r.json"
  python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum_received"]; print("%.0f %d" % (e["bits_per_second"], e["bytes"]))' "$tmp/r.json"
}

declare -A results
for mode in $modes; do
  flag=""; [ "$mode" = splice ] && flag="--splice"
  this_jar="$jar"; [ "$mode" = base ] && this_jar="$BASE_JAR"
  EPOLL_PROXY_JAR="$this_jar" bin/epoll-proxy -L "0:127.0.0.1:$backend" --quiet $flag > "$tmp/$mode.out" 2>"$tmp/$mode.err" & pid=$!
  pids+=("$pid")
  for _ in $(seq 50); do grep -q listening "$tmp/$mode.out" && break; sleep 0.1; done
  port="$(sed -n 's/^listening tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/$mode.out")"
  [ -n "$port" ] || { cat "$tmp/$mode.err" >&2; exit 1; }
  echo "$mode $pid $port" >> "$tmp/proxies"
done

printf '%-7s %-5s %12s %14s\n' mode round Gbit/s "cpu s/GiB"
for r in $(seq "$rounds"); do
  read -r bps _ < <(run_iperf "$backend")
  printf '%-7s %-5s %12.2f %14s\n' direct "$r" "$(echo "$bps / 1000000000" | bc -l)" -
  results[direct]+="$bps "
  while read -r mode pid port; do
    t0=$(cpu_ticks "$pid")
    read -r bps bytes < <(run_iperf "$port")
    t1=$(cpu_ticks "$pid")
    cpu=$(echo "($t1 - $t0) / $hz / ($bytes / 1073741824)" | bc -l)
    printf '%-7s %-5s %12.2f %14.3f\n' "$mode" "$r" "$(echo "$bps / 1000000000" | bc -l)" "$cpu"
    results[$mode]+="$bps "
    results[$mode.cpu]+="$cpu "
  done < "$tmp/proxies"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
first=""
printf '%-7s %12s %10s %14s\n' mode "median Gbit/s" "vs direct" "cpu s/GiB"
direct=$(echo "${results[direct]}" | median)
for mode in $modes; do
  m=$(echo "${results[$mode]}" | median)
  c=$(echo "${results[$mode.cpu]}" | median)
  [ -z "$first" ] && first=$m
  printf '%-7s %12.2f %10.2f %14.3f   (x%.2f of %s)\n' "$mode" "$(echo "$m / 1000000000" | bc -l)" "$(echo "$m / $direct" | bc -l)" "$c" \
    "$(echo "$m / $first" | bc -l)" "$(echo "$modes" | awk '{print $1}')"
done
