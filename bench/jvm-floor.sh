#!/usr/bin/env bash
# The JVM's floor: start-up time and idle RSS of the proxy under each JVM measure, on JDK 17 and 25.
# Prints one markdown table (median of N runs per cell), the load average before and after, and
# keeps the raw runs in $OUT.
#
#   bench/jvm-floor.sh                    # 5 runs per cell, both JDKs, then the goal's two rows (and the
#                                         # empty program with a cache of its own) 3 times idle for 10 s
#                                         # (about 9 minutes on a quiet machine)
#   FLOOR_RUNS=11 FLOOR_IDLE_RUNS=5 bench/jvm-floor.sh
#   FLOOR_JDKS="/usr/lib/jvm/java-17-openjdk-amd64" bench/jvm-floor.sh
#   FLOOR_BASELINE_JAR=/path/old/epoll-proxy.jar FLOOR_BASELINE_LABEL="jnr-ffi" bench/jvm-floor.sh
#                                         # adds a row: the shipped launcher with another build's jar
#                                         # (and its own archive), measured in the same runs
#
# One run: start the proxy with `-L 127.0.0.1:0:127.0.0.1:9` (an ephemeral port, nothing connects),
# time from the launch to its "listening" line on stdout ("start, ms"), then 1 s later read VmRSS from
# /proc/PID/status ("idle RSS, MiB"), then SIGTERM. The rows add one measure at a time, so each
# row's difference to the one above is that measure's effect; runs interleave the rows, so a burst of
# other load hits one run of every row instead of all runs of one. RSS hardly depends on load; the
# start time does (compare the load averages printed with the table).
#
# The goal's floor is the empty program with the launcher's flags: its JVM flags, the flags it adds for
# the JDK (native access, -XX:TrimNativeHeapInterval) and MALLOC_ARENA_MAX=2, and the JDK's own class
# archive, as any program started with those flags maps it. The proxy's class cache (AppCDS archive, or
# on JDK 25 the ahead-of-time cache) is the proxy's cost; the row after it shows an empty program with a
# cache of its own, the like-for-like floor if one counts the cache as the JVM's.
#
# Builds what it needs in a temp dir: a class data sharing archive per JDK (packaging/cds-archive.sh)
# and a jlink'ed runtime per JDK (as `mvn -Pdist package` makes it). Loopback only; every process it
# starts is stopped by PID; every wait is bounded.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
RUNS="${FLOOR_RUNS:-5}"
JDKS="${FLOOR_JDKS:-/usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/temurin-25-jdk-amd64}"
OUT="${OUT:-$root/bench/results/jvm-floor}"
jar="$root/java/target/epoll-proxy.jar"
if [ ! -f "$jar" ]; then
  echo "building the jar (mvn -B -q -DskipTests package)" >&2
  (cd "$root" && mvn -B -q -DskipTests package >&2)
fi

tmp="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$OUT"
raw="$OUT/runs.tsv"
printf 'jdk\trow\trun\tstart_ms\trss_kb\n' >"$raw"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"

# The flags of bin/epoll-proxy before this work, and the measures added row by row.
old_flags="-XX:+UseSerialGC -Xms4m -Xmx256m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:MaxMetaspaceSize=64m -Xss512k -XX:-UsePerfData"
c1="-XX:TieredStopAtLevel=1"
small="-XX:ReservedCodeCacheSize=16m -XX:CICompilerCount=1 -Xss256k"
rows=(
  "launcher before: a JVM to read the version, then the proxy"
  "version from the release file (one JVM)"
  "(for reference) -Xshare:off: no class data sharing at all"
  "+ AppCDS archive of the proxy (-XX:SharedArchiveFile)"
  "+ C1 only (-XX:TieredStopAtLevel=1)"
  "+ smaller code cache, 1 compiler thread, -Xss256k"
  "jlink'ed runtime (its own CDS archive)"
  "jlink'ed runtime + AppCDS + C1 only"
  "bin/epoll-proxy with the class archive (JDK 25: the build's kind of archive, made for it)"
  "(for reference) an empty Java program, with the flags of the row \"smaller code cache\" and the JDK's CDS archive"
  "(for reference) the same empty program, -Xshare:off"
  "(for reference) the same empty program, with an AppCDS archive of only the classes it loads"
  "bin/epoll-proxy as shipped (JDK 25: the ahead-of-time cache its first start made)"
  "(for reference) an empty Java program with the shipped launcher's flags and the JDK's CDS archive"
  "(for reference) the same empty program with a class cache of its own (JDK 25: an ahead-of-time cache; before: AppCDS)"
)
# The two rows the goal compares: idle RSS of the proxy as shipped within 10 MiB of the empty program
# with the same flags.
SHIPPED_ROW=12 EMPTY_SAME_ROW=13 EMPTY_OWN_CACHE_ROW=14
shipped_flags="$old_flags" # bin/epoll-proxy's default_opts
baseline_jar="${FLOOR_BASELINE_JAR:-}"
if [ -n "$baseline_jar" ]; then
  baseline_jar="$(readlink -f "$baseline_jar")"
  rows+=("bin/epoll-proxy as shipped, with the jar of ${FLOOR_BASELINE_LABEL:-$baseline_jar}")
fi

# The flag bin/epoll-proxy adds by JDK beside its default_opts and the native-access ones (keep in step
# with it): -XX:TrimNativeHeapInterval where the JDK has it (22+, 17.0.15+).
launcher_adds() {
  local v feature update
  v="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$1/release")"
  feature="${v%%[.+-]*}" update="${v#17.0.}"; update="${update%%[.+-]*}"
  if [ "$feature" -ge 22 ] 2>/dev/null || { [ "$feature" = 17 ] && [ "$update" -ge 15 ] 2>/dev/null; }; then
    echo "-XX:TrimNativeHeapInterval=5000"
  fi
}

# Sets CMD (array) for row $1 of JDK home $2 (with archive $3, jlink runtime $4).
command_for() {
  local row="$1" jdk="$2" archive="$3" rt="$4" java="$2/bin/java" extra="--enable-native-access=ALL-UNNAMED"
  local feature
  feature="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$jdk/release")"
  [ "$feature" -ge 23 ] && extra="$extra --sun-misc-unsafe-memory-access=allow"
  local cds="-XX:SharedArchiveFile=$archive -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
  local rtcds="-XX:SharedArchiveFile=$rt.jsa -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off"
  # shellcheck disable=SC2206
  case "$row" in
    0) CMD=(bash -c "\"\$0\" -XshowSettings:properties -version >/dev/null 2>&1; exec \"\$0\" \"\$@\"" "$java" $old_flags $extra -jar "$jar") ;;
    1) CMD=("$java" $old_flags $extra -jar "$jar") ;;
    2) CMD=("$java" $old_flags -Xshare:off $extra -jar "$jar") ;;
    3) CMD=("$java" $old_flags $extra $cds -jar "$jar") ;;
    4) CMD=("$java" $old_flags $c1 $extra $cds -jar "$jar") ;;
    5) CMD=("$java" $old_flags $c1 $small $extra $cds -jar "$jar") ;;
    6) CMD=("$rt/bin/java" $old_flags $extra -jar "$jar") ;;
    7) CMD=("$rt/bin/java" $old_flags $c1 $extra $rtcds -jar "$jar") ;;
    8) CMD=(env JAVA_HOME="$jdk" EPOLL_PROXY_JAR="$jar" EPOLL_PROXY_CDS_ARCHIVE="$archive" bash "$root/bin/epoll-proxy") ;;
    9) CMD=("$java" $old_flags $c1 $small -cp "$tmp/empty-${feature}" Empty) ;;
    10) CMD=("$java" $old_flags $c1 $small -Xshare:off -cp "$tmp/empty-${feature}" Empty) ;;
    11) CMD=("$java" $old_flags $c1 $small -XX:SharedArchiveFile="$tmp/empty-${feature}.jsa" -Xshare:auto -cp "$tmp/empty-${feature}.jar" Empty) ;;
    12) CMD=(env -u EPOLL_PROXY_CDS_ARCHIVE JAVA_HOME="$jdk" EPOLL_PROXY_JAR="$jar" EPOLL_PROXY_CACHE_DIR="$tmp/cache" bash "$root/bin/epoll-proxy") ;;
    # "The same flags" as the launcher's: its JVM flags, the ones it adds for this JDK and its malloc
    # arenas. Not its class cache: the proxy's own file, whose cost is the proxy's; the empty program maps
    # the JDK's archive, as any program started with these flags does. Row 14 shows an empty program with
    # a cache of its own, for reference.
    13) CMD=(env MALLOC_ARENA_MAX=2 "$java" $shipped_flags $extra $(launcher_adds "$jdk") -cp "$tmp/empty-${feature}" Empty) ;;
    14) if [ "$feature" -ge 25 ]; then
          CMD=(env MALLOC_ARENA_MAX=2 "$java" $shipped_flags $extra $(launcher_adds "$jdk") -XX:AOTCache="$tmp/empty-${feature}.aot" -Xlog:aot=off -Xlog:cds=off -cp "$tmp/empty-${feature}.jar" Empty)
        else
          CMD=(env MALLOC_ARENA_MAX=2 "$java" $shipped_flags $extra $(launcher_adds "$jdk") -XX:SharedArchiveFile="$tmp/empty-${feature}.jsa" -Xshare:auto -cp "$tmp/empty-${feature}.jar" Empty)
        fi ;;
    15) CMD=(env JAVA_HOME="$jdk" EPOLL_PROXY_JAR="$baseline_jar" EPOLL_PROXY_CDS_ARCHIVE="$tmp/baseline-$(basename "$archive")" bash "$root/bin/epoll-proxy") ;;
  esac
}

# One run of CMD: prints "start_ms rss_kb" ("- -" when it did not start within 30 s).
measure() {
  local fifo="$tmp/out.fifo" t0 t1 line ok=""
  rm -f "$fifo"; mkfifo "$fifo"
  t0="$(date +%s%N)"
  "${CMD[@]}" -L 127.0.0.1:0:127.0.0.1:9 >"$fifo" 2>&1 &
  pid=$!
  exec 3<"$fifo"
  while IFS= read -r -t 30 line <&3; do
    case "$line" in listening*) ok=1; break ;; esac
  done
  t1="$(date +%s%N)"
  if [ -n "$ok" ]; then
    sleep "${SETTLE:-1}"
    printf '%d %s\n' $(((t1 - t0) / 1000000)) "$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")"
  else
    echo "- -"
  fi
  kill "$pid" 2>/dev/null || true
  # Drain stdout so the JVM's shutdown never blocks on a full pipe.
  cat <&3 >/dev/null &
  local drain=$!
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
  exec 3<&-
  wait "$drain" 2>/dev/null || true
}

versions=()
for jdk in $JDKS; do
  v="$(sed -n 's/^JAVA_VERSION="\(.*\)"/\1/p' "$jdk/release")"
  versions+=("$v")
  echo "preparing JDK $v: AppCDS archive and jlink'ed runtime" >&2
  bash "$root/packaging/cds-archive.sh" "$jdk/bin/java" "$jar" "$tmp/app-$v.jsa" >&2
  if [ -n "$baseline_jar" ]; then
    bash "$root/packaging/cds-archive.sh" "$jdk/bin/java" "$baseline_jar" "$tmp/baseline-app-$v.jsa" >&2
  fi
  modules="$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release "${v%%.*}" "$jar")"
  "$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
    --generate-cds-archive --output "$tmp/rt-$v" >/dev/null
  bash "$root/packaging/cds-archive.sh" "$tmp/rt-$v/bin/java" "$jar" "$tmp/rt-$v.jsa" >&2
  # The shipped launcher's own cache (JDK 25+: the ahead-of-time cache; 19-24: the dynamic archive),
  # from one unmeasured start, as an operator's second start finds it. The JDK that built the jar
  # uses the archive next to it instead.
  CMD=(env -u EPOLL_PROXY_CDS_ARCHIVE JAVA_HOME="$jdk" EPOLL_PROXY_JAR="$jar" EPOLL_PROXY_CACHE_DIR="$tmp/cache" bash "$root/bin/epoll-proxy")
  read -r _ _ < <(measure)
  # HotSpot's own floor, for reference: a program that prints the line measure() waits for and sleeps.
  mkdir -p "$tmp/empty-${v%%.*}"
  printf '%s\n' 'public class Empty { public static void main(String[] a) throws Exception {' \
    '  System.out.println("listening"); Thread.sleep(a.length > 0 && a[0].equals("train") ? 1 : 60_000); } }' >"$tmp/empty-${v%%.*}/Empty.java"
  "$jdk/bin/javac" -d "$tmp/empty-${v%%.*}" "$tmp/empty-${v%%.*}/Empty.java"
  # Its own archive: the classes one run loads (about 450, against the JDK archive's 1,300), from a jar
  # (JDK 25 dumps only from jars).
  "$jdk/bin/jar" cf "$tmp/empty-${v%%.*}.jar" -C "$tmp/empty-${v%%.*}" Empty.class
  "$jdk/bin/java" $old_flags -Xshare:off -XX:DumpLoadedClassList="$tmp/empty-${v%%.*}.lst" \
    -cp "$tmp/empty-${v%%.*}.jar" Empty train >/dev/null
  "$jdk/bin/java" $old_flags -Xshare:dump -XX:SharedClassListFile="$tmp/empty-${v%%.*}.lst" \
    -XX:SharedArchiveFile="$tmp/empty-${v%%.*}.jsa" -cp "$tmp/empty-${v%%.*}.jar" >/dev/null 2>&1 ||
    echo "jvm-floor: JDK $v could not dump the empty program's archive: its row runs without one" >&2
  if [ "${v%%.*}" -ge 25 ]; then
    # And its ahead-of-time cache, made as the launcher makes the proxy's: one training run.
    env MALLOC_ARENA_MAX=2 "$jdk/bin/java" $old_flags --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
      $(launcher_adds "$jdk") -XX:AOTCacheOutput="$tmp/empty-${v%%.*}.aot" -Xlog:aot=off -Xlog:cds=off \
      -cp "$tmp/empty-${v%%.*}.jar" Empty train >/dev/null 2>&1 ||
      echo "jvm-floor: JDK $v could not make the empty program's ahead-of-time cache" >&2
  fi
done

for run in $(seq "$RUNS"); do
  echo "run $run/$RUNS (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  i=0
  for jdk in $JDKS; do
    v="${versions[$i]}"; i=$((i + 1))
    for row in "${!rows[@]}"; do
      command_for "$row" "$jdk" "$tmp/app-$v.jsa" "$tmp/rt-$v"
      read -r ms kb < <(measure)
      printf '%s\t%s\t%s\t%s\t%s\n' "$v" "$row" "$run" "$ms" "$kb" >>"$raw"
    done
  done
done
# Idle for real: the goal's two rows again, RSS read 10 s after the listening line instead of 1 s, when
# the JIT's start-up work is done and the C heap it freed has been given back.
IDLE_RUNS="${FLOOR_IDLE_RUNS:-3}"
idle_raw="$OUT/idle-runs.tsv"
printf 'jdk\trow\trun\tstart_ms\trss_kb\n' >"$idle_raw"
for run in $(seq "$IDLE_RUNS"); do
  echo "idle run $run/$IDLE_RUNS" >&2
  i=0
  for jdk in $JDKS; do
    v="${versions[$i]}"; i=$((i + 1))
    for row in "$SHIPPED_ROW" "$EMPTY_SAME_ROW" "$EMPTY_OWN_CACHE_ROW"; do
      command_for "$row" "$jdk" "$tmp/app-$v.jsa" "$tmp/rt-$v"
      read -r ms kb < <(SETTLE=10 measure)
      printf '%s\t%s\t%s\t%s\t%s\n' "$v" "$row" "$run" "$ms" "$kb" >>"$idle_raw"
    done
  done
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
{
  echo "<!-- bench/jvm-floor.sh, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), $RUNS runs per cell (median) -->"
  echo "Load average (1, 5, 15 min): $load_before before, $load_after after; $RUNS runs per cell, medians."
  echo
  header="| measure |"; rule="|---|"
  for v in "${versions[@]}"; do header="$header JDK $v start, ms | JDK $v idle RSS, MiB |"; rule="$rule--:|--:|"; done
  echo "$header"; echo "$rule"
  for row in "${!rows[@]}"; do
    line="| ${rows[$row]} |"
    for v in "${versions[@]}"; do
      ms="$(awk -F'\t' -v v="$v" -v r="$row" '$1 == v && $2 == r && $4 != "-" { print $4 }' "$raw" | median)"
      kb="$(awk -F'\t' -v v="$v" -v r="$row" '$1 == v && $2 == r && $5 != "-" { print $5 }' "$raw" | median)"
      mib="-"; [ "$kb" != "-" ] && mib="$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')"
      line="$line $ms | $mib |"
    done
    echo "$line"
  done
  echo
  for v in "${versions[@]}"; do
    proxy="$(awk -F'\t' -v v="$v" -v r="$SHIPPED_ROW" '$1 == v && $2 == r && $5 != "-" { print $5 }' "$raw" | median)"
    empty="$(awk -F'\t' -v v="$v" -v r="$EMPTY_SAME_ROW" '$1 == v && $2 == r && $5 != "-" { print $5 }' "$raw" | median)"
    awk -v v="$v" -v p="$proxy" -v e="$empty" 'BEGIN { if (p == "-" || e == "-") exit
      printf "JDK %s, 1 s after listening: the proxy as shipped holds %.1f MiB more RSS than an empty program with the same flags\n", v, (p - e) / 1024 }'
    proxy="$(awk -F'\t' -v v="$v" -v r="$SHIPPED_ROW" '$1 == v && $2 == r && $5 != "-" { print $5 }' "$idle_raw" | median)"
    empty="$(awk -F'\t' -v v="$v" -v r="$EMPTY_SAME_ROW" '$1 == v && $2 == r && $5 != "-" { print $5 }' "$idle_raw" | median)"
    awk -v v="$v" -v p="$proxy" -v e="$empty" -v n="$IDLE_RUNS" 'BEGIN { if (p == "-" || e == "-") exit
      printf "JDK %s, idle (10 s after listening, median of %d): the proxy %.1f MiB, the empty program %.1f MiB: %.1f MiB more (goal: at most 10)\n", v, n, p / 1024, e / 1024, (p - e) / 1024 }'
    own="$(awk -F'\t' -v v="$v" -v r="$EMPTY_OWN_CACHE_ROW" '$1 == v && $2 == r && $5 != "-" { print $5 }' "$idle_raw" | median)"
    awk -v v="$v" -v p="$proxy" -v e="$own" 'BEGIN { if (p == "-" || e == "-") exit
      printf "JDK %s, idle, for reference: the empty program with a class cache of its own %.1f MiB (the proxy %.1f MiB more)\n", v, e / 1024, (p - e) / 1024 }'
  done
} | tee "$OUT/jvm-floor.md"
