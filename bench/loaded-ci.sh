#!/usr/bin/env bash
# The test command on a loaded machine, from fresh clones: shows that it never fails by chance.
#
#   bench/loaded-ci.sh [N] [BUSY]      (defaults: 10 runs; BUSY = one busy loop per core, from nproc)
#
# Starts BUSY busy loops (sha256sum of /dev/zero) that keep every core busy for the whole time, then N
# times: clones this repository's committed HEAD into a new temp dir and runs `bash .ci/run` there with
# CI=true, as CI does (so a test whose third-party program is missing fails instead of skipping). Each
# run is bounded by CI's 90 minutes, and starts with every signal at its default (env --default-signal):
# under nohup, or as a background job of a script, SIGHUP and SIGINT arrive ignored, the JVMs the tests
# start inherit that, and every test that sends them fails. The busy loops are stopped by their PIDs at the end, also on ^C.
#
# Writes one line per run to $OUT/runs.tsv (run, exit status, seconds, 1-minute load average at the
# start, log file) and keeps every run's log in $OUT (default: a new temp dir); a failed run's clone is
# kept too, for its surefire/failsafe reports. Prints a summary line; exits 1 if any run failed.
set -euo pipefail
n="${1:-10}"
busy="${2:-$(nproc)}"
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
out="${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/loaded-ci.XXXXXX")}"
mkdir -p "$out"
tsv="$out/runs.tsv"
printf 'run\texit\tseconds\tload1_at_start\tlog\n' >"$tsv"

pids=()
stop_busy() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_busy EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 "$busy"); do
  sha256sum /dev/zero >/dev/null 2>&1 &
  pids+=("$!")
done

# Every run tests the commit HEAD was at the start, even if HEAD moves meanwhile.
head="$(git -C "$repo" rev-parse HEAD)"
echo "loaded-ci: $n fresh-clone run(s) of .ci/run at ${head:0:7}, $busy busy loop(s), logs in $out"
failed=0
for i in $(seq 1 "$n"); do
  dir="$(mktemp -d "${TMPDIR:-/tmp}/loaded-ci-clone.XXXXXX")"
  log="$out/run-$i.log"
  load="$(cut -d' ' -f1 /proc/loadavg)"
  start="$(date +%s)"
  status=0
  {
    git clone -q "$repo" "$dir/repo" && git -C "$dir/repo" checkout -q "$head" &&
      (cd "$dir/repo" && CI=true timeout 5400 env --default-signal bash .ci/run </dev/null)
  } >"$log" 2>&1 || status=$?
  secs=$(( $(date +%s) - start ))
  printf '%s\t%s\t%s\t%s\t%s\n' "$i" "$status" "$secs" "$load" "$log" >>"$tsv"
  if [ "$status" -eq 0 ]; then
    rm -rf "$dir"
    echo "run $i: ok in ${secs} s (load $load at start)"
  else
    failed=$((failed + 1))
    echo "run $i: FAILED (exit $status) in ${secs} s (load $load at start); log $log, clone kept in $dir"
    grep -E '^\[ERROR\] +[A-Za-z]+(IT|Test)\.|Tests run:.*FAIL' "$log" | head -5 || true
  fi
done
stop_busy

times="$(tail -n +2 "$tsv" | cut -f3 | sort -n)"
median="$(echo "$times" | sed -n "$(( (n + 1) / 2 ))p")"
loads="$(tail -n +2 "$tsv" | cut -f4 | paste -sd, -)"
summary="times $(echo "$times" | head -1)-$(echo "$times" | tail -1) s (median $median), load at start $loads"
echo "loaded-ci: $n run(s), $failed failed; $summary; $tsv"
[ "$failed" -eq 0 ]
