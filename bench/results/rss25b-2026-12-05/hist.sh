#!/usr/bin/env bash
# hist.sh OUT cmd...: start, wait for listening, 10 s, GC.heap_info + class histogram (live objects, after a full GC)
out="$1"; shift
fifo=$(mktemp -u); mkfifo $fifo
"$@" >$fifo 2>&1 & pid=$!
exec 3<$fifo
while IFS= read -r -t 60 line <&3; do case "$line" in listening*) break;; esac; done
cat <&3 >/dev/null & drain=$!
sleep 10
J=/usr/lib/jvm/temurin-25-jdk-amd64/bin/jcmd
$J $pid GC.heap_info > $out.heapinfo 2>&1
$J $pid GC.class_histogram > $out.hist 2>&1
kill $pid; wait $pid 2>/dev/null; wait $drain; rm -f $fifo
