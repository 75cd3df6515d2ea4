#!/usr/bin/env bash
# The CPU-seconds and wall time of failsafe process-test classes, each run alone: the forked test JVM is
# started through a wrapper under /usr/bin/time, so the figure is that JVM plus every process it started
# and waited for (the jars, launchers, openssl, ...), without Maven's own CPU (which varied by 3 CPU-s
# between two runs of nothing on the shared machine). Also the class's "Time elapsed" from its report.
#
#   bench/it-class-cpu.sh [ROUNDS] CLASS...      e.g. bench/it-class-cpu.sh 3 CommandLineIT InputErrorsIT
#
# Needs the build (mvn -B -q -pl java -DskipTests package). One line per class and round on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=1
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds="$1"; shift; fi
[ $# -gt 0 ] || { echo "usage: $0 [ROUNDS] CLASS..." >&2; exit 2; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
java_bin="$(readlink -f "$(command -v java)")"
# failsafe wants a path ending in bin/java
mkdir -p "$tmp/jvm/bin"
printf '#!/bin/bash\nexec /usr/bin/time -a -o %q -f "%%U %%S %%e" %q "$@"\n' "$tmp/fork.time" "$java_bin" >"$tmp/jvm/bin/java"
chmod +x "$tmp/jvm/bin/java"
echo "# $(date -u +%FT%TZ) $(uptime)"
for ((r = 1; r <= rounds; r++)); do
  for c in "$@"; do
    : >"$tmp/fork.time"
    rc=0
    mvn -B -o -q -pl java verify -Dfuzz.skip -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
      -Dit.test="$c" -Djvm="$tmp/jvm/bin/java" >"$tmp/mvn.log" 2>&1 || rc=$?
    report="java/target/failsafe-reports/TEST-org.epollproxy.cli.$c.xml"
    elapsed="$(grep -o '<testsuite [^>]*' "$report" 2>/dev/null | grep -o ' time="[^"]*"' | tr -dc '0-9.' || true)" # no report: Maven failed first
    awk -v c="$c" -v r="$r" -v rc="$rc" -v el="${elapsed:-?}" -v load="$(cut -d' ' -f1 /proc/loadavg)" \
      '{printf "%s round %s: %.2f CPU-s (test JVM and its children), %.1f s wall, class elapsed %s s, exit %s, load %s\n", c, r, $1 + $2, $3, el, rc, load}' \
      "$tmp/fork.time"
    [ "$rc" -eq 0 ] || tail -20 "$tmp/mvn.log" >&2
  done
done
