#!/usr/bin/env bash
# m.sh SETTLE cmd... : start, wait for listening, sleep SETTLE, print Rss kB (and dump smaps to $SMAPS if set), NMT if $NMT
settle="$1"; shift
fifo=$(mktemp -u); mkfifo $fifo
t0=$(date +%s%N)
"$@" >$fifo 2>&1 &
pid=$!
exec 3<$fifo
ok=
while IFS= read -r -t 60 line <&3; do case "$line" in listening*) ok=1; break;; esac; done
t1=$(date +%s%N)
cat <&3 >/dev/null & drain=$!
if [ -n "$ok" ]; then
  sleep $settle
  rss=$(awk '/^VmRSS:/{print $2}' /proc/$pid/status)
  [ -n "${SMAPS:-}" ] && cp /proc/$pid/smaps $SMAPS
  [ -n "${NMT:-}" ] && /usr/lib/jvm/temurin-25-jdk-amd64/bin/jcmd $pid VM.native_memory summary > $NMT 2>&1
  [ -n "${THREADS:-}" ] && ls /proc/$pid/task | while read t; do cat /proc/$pid/task/$t/comm; done > $THREADS
  echo "$(( (t1-t0)/1000000 )) $rss"
else echo "- -"; fi
kill $pid; wait $pid 2>/dev/null; wait $drain; rm -f $fifo
