#!/usr/bin/env bash
# The CPU-seconds, inputs tried and coverage of the test command's fuzz run (ParserFuzzTest#parsers, 5 s),
# started as FuzzRun starts it, once per JVM flag set, the sets interleaved round by round. Each run
# starts from the saved inputs only (an empty .cifuzz-corpus, as in a fresh clone), and a failing input
# Jazzer saves under src/test/resources is counted and removed (so it is not replayed by the next run).
#
#   bench/fuzz-cpu.sh [ROUNDS] [OVERLAY]   default 3 rounds; needs mvn -B -q -pl java -DskipTests package
#
# OVERLAY: a directory of classes put first on the class path, e.g. a parser with a planted crash
# (javac -d DIR -cp java/target/classes HeaderParser.java), to see whether each set finds it.
# One line per run: set, exit status (1: a finding), CPU-s (user + system), wall, libFuzzer's DONE line.
set -euo pipefail
cd "$(dirname "$0")/../java"
rounds="${1:-3}"
overlay="${2:+$2:}"
[ -d target/test-classes ] && [ -d target/classes ] || { echo "build first: mvn -B -q -pl java -DskipTests package" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mvn -B -o -q dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$tmp/cp" >/dev/null
cp="${overlay}target/test-classes:target/classes:$(cat "$tmp/cp")"
inputs=src/test/resources/org/epollproxy/fuzz/ParserFuzzTestInputs/parsers
common="--enable-native-access=ALL-UNNAMED -XX:+UseSerialGC -Xshare:off -Djdk.attach.allowAttachSelf=true"
[ "$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')" -ge 23 ] &&
  common="$common --sun-misc-unsafe-memory-access=allow"
names=(C2 C1)
sets=("$common" "$common -XX:TieredStopAtLevel=1")
echo "# $(date -u +%FT%TZ) $rounds rounds, load: $(cut -d' ' -f1-3 /proc/loadavg)${overlay:+, overlay $2}"
for r in $(seq "$rounds"); do
  for i in "${!sets[@]}"; do
    rm -rf .cifuzz-corpus
    rc=0
    # shellcheck disable=SC2086
    JAZZER_FUZZ=1 /usr/bin/time -o "$tmp/time" -f '%U %S %e' java ${sets[$i]} -cp "$cp" org.epollproxy.fuzz.FuzzLauncher \
      'org.epollproxy.fuzz.ParserFuzzTest#parsers(com.code_intelligence.jazzer.api.FuzzedDataProvider)' \
      >"$tmp/out" 2>"$tmp/err" || rc=$?
    found="$(find "$inputs" -name 'crash-*' | wc -l)"
    find "$inputs" -name 'crash-*' -delete
    printf '%s round %s: exit %s, %s, saved failing inputs %s, %s\n' "${names[$i]}" "$r" "$rc" \
      "$(tail -1 "$tmp/time" | awk '{printf "%.2f CPU-s, %.1f s wall", $1 + $2, $3}')" "$found" \
      "$(grep -m1 -o '#[0-9]*[[:space:]]*DONE.*exec/s' "$tmp/err" || grep -m1 -o 'planted[^"]*\|Exception: .*' "$tmp/out" || echo '?')"
  done
done
rm -rf .cifuzz-corpus
