#!/usr/bin/env bash
# What one start of the jar costs the process tests, in CPU-seconds (user + system, perf stat's
# task-clock): the JVM started as the tests start it, to its "listening" line, then SIGTERM and its
# exit. Flag sets are interleaved round by round, so a load that changes meanwhile weighs on each alike;
# CPU-seconds still grow with the machine's load, so compare sets of one run only.
#
#   bench/jar-start-cpu.sh [ROUNDS]        # default 10; needs perf and `mvn -B -q -pl java -DskipTests package`
#
# Sets: "plain" (heap flags only, as ZeroDowntimeIT's activator started it), "archive+C1" (JarProcess
# before the native libraries, the compile threshold and TLS on C1), "tests" (JarProcess now).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-10}"
jar="$PWD/java/target/epoll-proxy.jar"
version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.version = //p')"
archive="$PWD/java/target/epoll-proxy-jdk$version.jsa"
native="$PWD/java/target/epoll-proxy-native"
[ -f "$jar" ] && [ -f "$archive" ] || { echo "build first: mvn -B -q -pl java -DskipTests package" >&2; exit 1; }
command -v perf >/dev/null || { echo "needs perf (apt-get install linux-perf)" >&2; exit 1; }

heap="-XX:+UseSerialGC -Xmx128m"
cds="-XX:SharedArchiveFile=$archive -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
names=(plain archive+C1 tests)
sets=("$heap" "$heap $cds -XX:TieredStopAtLevel=1"
  "$heap $cds -Depollproxy.native=$native -XX:TieredStopAtLevel=1 -XX:CompileThresholdScaling=4")

out="$(mktemp)"
trap 'rm -f "$out" "$out.one"' EXIT
for _ in $(seq "$rounds"); do
  for i in "${!sets[@]}"; do
    # shellcheck disable=SC2086
    perf stat -x, -e task-clock -o "$out.one" bash -c '
      coproc J { exec java "$@" 2>&1; }
      while IFS= read -r -t 60 l <&"${J[0]}"; do case "$l" in listening*) break ;; esac; done
      kill -TERM "$J_PID"; wait "$J_PID" || true' bash ${sets[$i]} -jar "$jar" -L 127.0.0.1:0:127.0.0.1:1
    echo "$i $(grep task-clock "$out.one" | cut -d, -f1)" >>"$out"
  done
done
echo "$(date -u +%FT%TZ) $rounds rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!sets[@]}"; do
  awk -v i="$i" -v name="${names[$i]}" '$1 == i { v[++n] = $2 / 1000; s += $2 / 1000 }
    END { for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++) if (v[b] < v[a]) { t = v[a]; v[a] = v[b]; v[b] = t }
          printf "%-11s mean %.3f  median %.3f CPU-s per start\n", name, s / n, v[int((n + 1) / 2)] }' "$out"
done
