#!/usr/bin/env bash
# Runs the JMH benchmarks (bench/target/benchmarks.jar) and writes the tables and the ratio chart.
#
#   bench/run.sh             # short profile: a few minutes on 2 cores
#   bench/run.sh full        # longer warm-up and measurement, two forks: about half an hour
#   bench/run.sh short 'ForwardBench.bulk'   # only the benchmarks matching a JMH regex
#   BENCH_PROF= bench/run.sh                 # without the per-operation profilers
#   BENCH_JVM_ARGS=-XX:TieredStopAtLevel=1 bench/run.sh short ForwardBench -p forwarder=epoll-proxy
#                                            # more flags for the benchmark JVMs (here: C1 only)
#
# By default every benchmark also runs JMH's -prof gc (gc.alloc.rate.norm: heap bytes per operation,
# whole JVM) and ForwarderThreadsProfiler (the forwarder threads' own allocation and user/system CPU
# per operation, apart from the client and the echo server); jmh.md shows them in a per-operation
# table. Allocation per operation does not depend on machine load; CPU per operation depends on it
# less than throughput does.
#
# Results go to $OUT (default bench/results/jmh): jmh.csv (raw), jmh.md (tables), jmh-ratios.dat and
# ratios-jmh.png (relative to direct).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
cd "$root"

profile="${1:-short}"
shift || true
filter=("$@")
[ ${#filter[@]} -eq 0 ] && filter=(ForwardBench SyscallBench)
OUT="${OUT:-$root/bench/results/jmh}"

case "$profile" in
  short) opts=(-wi 2 -w 2s -i 3 -r 2s -f 1) ;;
  full)  opts=(-wi 5 -w 3s -i 8 -r 3s -f 2) ;;
  *) echo "usage: bench/run.sh [short|full] [JMH regex...]" >&2; exit 2 ;;
esac

if [ ! -f bench/target/benchmarks.jar ]; then
  echo "building (mvn -B -q -DskipTests package)" >&2
  mvn -B -q -DskipTests package >&2
fi

java_bin="java"
[ -n "${JAVA_HOME:-}" ] && java_bin="$JAVA_HOME/bin/java"
# The forked benchmark JVMs need native access (jnr-ffi/jffi, JNI); JDK 23+ also warns about jffi's Unsafe.
jvm_args="--enable-native-access=ALL-UNNAMED -Xms256m -Xmx256m"
feature="$("$java_bin" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
if [ "${feature%%.*}" -ge 23 ] 2>/dev/null; then jvm_args="$jvm_args --sun-misc-unsafe-memory-access=allow"; fi
[ -n "${BENCH_JVM_ARGS:-}" ] && jvm_args="$jvm_args $BENCH_JVM_ARGS"

# 64 connections per ping-pong trial plus TIME_WAIT churn from the connection benchmark.
ulimit -n 20000 2>/dev/null || true
mkdir -p "$OUT"
read -r -a prof <<<"${BENCH_PROF--prof gc -prof org.epollproxy.bench.ForwarderThreadsProfiler}"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$OUT/load.txt"
"$java_bin" -jar bench/target/benchmarks.jar "${filter[@]}" "${opts[@]}" "${prof[@]+"${prof[@]}"}" \
  -jvmArgsAppend "$jvm_args" -rf csv -rff "$OUT/jmh.csv" | tee "$OUT/jmh.log"

{
  echo "<!-- bench/run.sh $profile ${filter[*]}, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), $("$java_bin" -version 2>&1 | head -1), JVM args: $jvm_args -->"
  echo "Load average (1, 5, 15 min): $(cut -d' ' -f4- "$OUT/load.txt") before, $(cut -d' ' -f1-3 /proc/loadavg) after."
  echo
  "$java_bin" -cp bench/target/benchmarks.jar org.epollproxy.bench.JmhTable "$OUT/jmh.csv" "$OUT/jmh-ratios.dat"
} >"$OUT/jmh.md"
cat "$OUT/jmh.md"
"$here/plot.sh" "$OUT/jmh-ratios.dat" "$OUT/ratios-jmh.png" "JMH, in-process forwarders: performance relative to direct (1 = no forwarder)" || true
