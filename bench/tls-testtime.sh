#!/usr/bin/env bash
# What the TLS process tests cost the test command: CPU-seconds (user + system of Maven and every process
# it starts) and elapsed seconds of a failsafe run of the TLS classes alone, Maven's own cost subtracted
# (a run of no class), and each class's "Time elapsed" (the failsafe phase ends when its longest class does).
#
#   bench/tls-testtime.sh [ROUNDS] [REV...]    # default: 3 rounds, the working tree as it is
#
# Each REV (a commit, branch or tag; e.g. `main tlsit`) is checked out into a temporary git worktree and
# built once (mvn -o package, tests skipped); the rounds then alternate between the revisions, so a load
# that changes meanwhile weighs on each alike. The classes are the TLS process test classes that REV has
# (java/src/test/java/org/epollproxy/cli/*Tls*IT.java). Run it on a quiet machine: CPU-seconds grow with
# the load too. Prints one line per run and a mean per revision; the raw lines stay in $OUT (a temp dir).
# Maven runs with every signal at its default (env --default-signal): started under nohup or as a script's
# background job, SIGHUP arrives ignored, the proxies inherit that, and the tests that send it fail.
set -euo pipefail
rounds=3
if [[ "${1:-}" =~ ^[0-9]+$ ]]; then rounds="$1"; shift; fi
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/tls-testtime.XXXXXX")}"
mkdir -p "$out"
trees=()
cleanup() { for t in "${trees[@]}"; do git -C "$repo" worktree remove --force "$t" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ $# -eq 0 ]; then
  dirs=("$repo")
  names=(worktree)
else
  dirs=()
  names=()
  for rev in "$@"; do
    t="$out/tree-${rev//\//_}"
    git -C "$repo" worktree add --detach --quiet "$t" "$rev"
    trees+=("$t")
    dirs+=("$t")
    names+=("$rev")
  done
fi
for d in "${dirs[@]}"; do
  (cd "$d" && mvn -B -o -q -pl java -DskipTests package >"$out/build-$(basename "$d").log" 2>&1)
done

# One failsafe run: "CPU-seconds elapsed-seconds ok|failed" on stdout, the class times appended to $out/classes.txt.
run() {
  local dir="$1" classes="$2" label="$3"
  rm -rf "$dir/java/target/failsafe-reports"
  local status=ok props=(-Dfuzz.skip -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false "-Dit.test=$classes")
  [ "$classes" = none ] && props+=(-Dfailsafe.failIfNoSpecifiedTests=false)
  (cd "$dir" && /usr/bin/time -f '%U %S %e' -o "$out/time" env --default-signal mvn -B -o -q -pl java verify "${props[@]}" >"$out/run.log" 2>&1) \
    || { status=failed; echo "failed: $label $classes (log: $out/failed-$label.log)" >&2; cp "$out/run.log" "$out/failed-$label.log"; }
  if [ "$classes" != none ]; then
    grep -h 'Time elapsed' "$dir"/java/target/failsafe-reports/*.txt 2>/dev/null | sed "s/^/$label: /" >>"$out/classes.txt" || true
  fi
  tail -1 "$out/time" | awk -v s="$status" '{ printf "%.2f %.2f %s\n", $1 + $2, $3, s }' # time says "exited with status" first
}

echo "# $(date -u +%FT%TZ) $rounds rounds, load at start: $(cut -d' ' -f1-3 /proc/loadavg)" | tee "$out/runs.txt"
for r in $(seq "$rounds"); do
  for i in "${!dirs[@]}"; do
    d="${dirs[$i]}"
    classes="$(cd "$d/java/src/test/java/org/epollproxy/cli" && ls ./*Tls*IT.java | sed 's|^\./||; s|\.java$||' | paste -sd, -)"
    read -r base _ _ < <(run "$d" none "${names[$i]}")
    read -r cpu wall status < <(run "$d" "$classes" "${names[$i]}")
    [ "$status" = ok ] || { echo "${names[$i]} failed in round $r: not counted" | tee -a "$out/runs.txt"; continue; }
    line="${names[$i]} round $r: $(awk -v c="$cpu" -v b="$base" 'BEGIN { printf "%.1f", c - b }') CPU-s (Maven's $base subtracted), $wall s elapsed, load $(cut -d' ' -f1 /proc/loadavg); $classes"
    echo "$line" | tee -a "$out/runs.txt"
  done
done
echo "# class times (failsafe's Time elapsed):" | tee -a "$out/runs.txt"
sed 's/Tests run: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\), Skipped: [0-9]*, Time elapsed: \([0-9.]*\) s -- in org.epollproxy.cli./\4 s (\1 tests, \2 failed, \3 errors) /' \
  "$out/classes.txt" | tee -a "$out/runs.txt"
for n in "${names[@]}"; do
  awk -v n="$n" '$1 == n && $2 == "round" { s += $4; w += $9; k++ }
    END { if (k) printf "%s: mean %.1f CPU-s, %.1f s elapsed over %d rounds\n", n, s / k, w / k, k }' "$out/runs.txt"
done | tee -a "$out/runs.txt"
echo "raw: $out/runs.txt"
