#!/usr/bin/env bash
# Once a second: seconds since the start and the busy cores of the whole machine (from /proc/stat), e.g. "12.0 1.98".
prev=($(head -1 /proc/stat)); t0=$(date +%s.%N)
while sleep 1; do
  cur=($(head -1 /proc/stat))
  busy=$(( (cur[1]+cur[2]+cur[3]+cur[6]+cur[7]) - (prev[1]+prev[2]+prev[3]+prev[6]+prev[7]) ))
  tot=$(( busy + cur[4]+cur[5] - prev[4]-prev[5] ))
  printf '%.1f %.2f\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$(echo "$(nproc)*$busy/$tot" | bc -l)"
  prev=("${cur[@]}")
done
