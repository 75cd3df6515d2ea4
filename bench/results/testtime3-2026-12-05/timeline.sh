#!/usr/bin/env bash
# timeline.sh REPO OUT: clones REPO's HEAD into a temp dir, runs `bash .ci/run` there under /usr/bin/time -v
# with sample.sh beside it (busy cores of the whole machine, once a second), and time-stamps Maven's lines.
# Writes OUT.log (the time-stamped output), OUT.cpu (seconds, busy cores), OUT.time, OUT.uptime.
here="$(cd "$(dirname "$0")" && pwd)"; src=$1; out=$2
dir="$(mktemp -d)"; git clone -q "$src" "$dir/repo"; cd "$dir/repo"
uptime > "$out.uptime"
"$here/sample.sh" > "$out.cpu" & s=$!
t0=$(date +%s.%N)
/usr/bin/time -v bash .ci/run 2> "$out.time" | while IFS= read -r l; do printf '%6.1f %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$l"; done > "$out.log"
kill $s
uptime >> "$out.uptime"
grep -E "Elapsed|User time|System time|Exit" "$out.time"; cat "$out.uptime"
