#!/usr/bin/env bash
# Switches off each guard of docs/testing.md ("Guards and the tests that catch them") by a one-line
# change, runs the test named for it, expects it to FAIL, and puts the line back. Not part of any
# default build (each mutation is a compile and a test run: minutes in all).
#
#   bench/mutations.sh [NAME...]      (default: every mutation below; names in the first column)
#
# A mutated file must have no uncommitted change (it is restored from a copy taken before). Prints one
# line per mutation: "caught" (the test failed), "NOT CAUGHT" (it passed), "no such line" (the code
# changed: update the table) or "did not compile". Exits 1 unless every mutation was caught.
set -euo pipefail
cd "$(dirname "$0")/.."

# name | module | test (surefire -Dtest) | file | the line as it is | the line switched off
# Lines are matched exactly and must occur once; "\n" joins two lines (a swap).
mutations() {
  cat <<'TABLE'
proxy-v2-signature|java|AcceptProxyTest,HeaderParserTest|java/src/main/java/org/epollproxy/forward/proxyproto/HeaderParser.java|            if (b[i] != V2_SIGNATURE[i]) return bad("bad v2 signature");|            if (false) return bad("bad v2 signature");
proxy-v2-length-bound|java|AcceptProxyTest|java/src/main/java/org/epollproxy/forward/proxyproto/HeaderParser.java|        if (16 + bodyLen > MAX_HEADER) return bad("v2 header of " + (16 + bodyLen) + " bytes; the limit is " + MAX_HEADER);|        if (false) return bad("v2 header of " + (16 + bodyLen) + " bytes; the limit is " + MAX_HEADER);
splice-pipe-discard|java|SplicePipeLeakTest|java/src/main/java/org/epollproxy/forward/tcp/Direction.java|            if (bytesInPipe) pipe.discard(pair.kernel());|            if (false) pipe.discard(pair.kernel());
wakeup-drain-then-clear|java|WakeupRaceTest|java/src/main/java/org/epollproxy/loop/EventLoop.java|            kernel.eventfd_read(wakeFd);\n            wakePending.set(false);|            wakePending.set(false);\n            kernel.eventfd_read(wakeFd);
fd-limit-soft-column|java|FdBudgetTest|java/src/main/java/org/epollproxy/cli/FdBudget.java|                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];|                String soft = line.substring("Max open files".length()).trim().split("\\s+")[1];
access-rule-deny|java|AccessAndLimitsTest|java/src/main/java/org/epollproxy/forward/AccessRules.java|        if (any(ruleDeny, client)) return "denied";|        if (false) return "denied";
max-connections-cap|java|AccessAndLimitsTest,CapacityRaceTest|java/src/main/java/org/epollproxy/forward/ForwardingLoop.java|            if (max > 0 && n >= max) return false;|            if (false) return false;
backpressure-stop-reading|java|BackpressureTest|java/src/main/java/org/epollproxy/forward/tcp/Direction.java|        return !eof && end == start;|        return !eof;
control-peer-uid|java|ControlServerTest|java/src/main/java/org/epollproxy/runtime/ControlServer.java|            if (uid != k.getuid()) {|            if (false) {
takeover-peer-uid|java|ControlServerTest|java/src/main/java/org/epollproxy/runtime/Takeover.java|            if (uid != k.getuid()) throw new TakeoverException(|            if (false) throw new TakeoverException(
socket-file-still-ours|java|UnixSocketTest,ControlServerTest|java/src/main/java/org/epollproxy/forward/SocketFile.java|!now.sameFile(identity)) return false;|false) return false;
untrusted-proxy|java|TrustedProxyTest|java/src/main/java/org/epollproxy/forward/tcp/TcpListener.java|            if (!forward().trustsProxy(peer)) {|            if (false) {
drain-takes-in-queue|java|DrainAcceptQueueTest|java/src/main/java/org/epollproxy/forward/ForwardingLoop.java|            if (takeInQueued) l.takeInQueued();|            if (false) l.takeInQueued();
task-fresh-clock|java|EventLoopTest,DrainAcceptQueueTest|java/src/main/java/org/epollproxy/loop/EventLoop.java|            now = clock.getAsLong();\n            try {|            try {
admin-state-usable|java|AdminStateTest|java/src/main/java/org/epollproxy/forward/balance/BackendState.java|admin != AdminState.READY) return false;|false) return false;
netty-early-bytes|bench|ForwardersSmokeTest|bench/src/main/java/org/epollproxy/bench/fwd/NettyForwarder.java|            early.add(msg);|            ReferenceCountUtil.release(msg);
TABLE
}

# Replaces the one occurrence of $2 by $3 in file $1 (literal text; "\n" is a line break). Exit 3 if $2
# does not occur exactly once.
replace_once() {
  /usr/bin/env python3 - "$@" <<'PY'
import sys
path, old, new = sys.argv[1], sys.argv[2].replace("\\n", "\n"), sys.argv[3].replace("\\n", "\n")
text = open(path).read()
if text.count(old) != 1:
    sys.exit(3)
open(path, "w").write(text.replace(old, new))
PY
}

want=("$@")
backup=""
target=""
restore() {
  if [ -n "$backup" ]; then cp "$backup" "$target" && rm -f "$backup"; backup=""; fi
}
trap restore EXIT
trap 'exit 130' INT TERM

failed=0
while IFS='|' read -r name module tests file old new; do
  if [ ${#want[@]} -gt 0 ] && [[ " ${want[*]} " != *" $name "* ]]; then continue; fi
  if ! git diff --quiet -- "$file"; then
    echo "mutations: $file has uncommitted changes; commit or stash them first" >&2
    exit 2
  fi
  target="$file"
  backup="$(mktemp)"
  cp "$file" "$backup"
  if ! replace_once "$file" "$old" "$new"; then
    restore
    echo "$name: no such line in $file (the code changed: update the table)"
    failed=$((failed + 1))
    continue
  fi
  log="$(mktemp "${TMPDIR:-/tmp}/mutation-$name.XXXXXX")"
  if [ "$module" = java ]; then
    cmd=(mvn -B -o -pl java test -Dfuzz.skip "-Dtest=$tests")
  else
    cmd=(mvn -B -o -pl "$module" -am test -Dfuzz.skip "-Dtest=$tests" -Dsurefire.failIfNoSpecifiedTests=false)
  fi
  status=0
  timeout 1800 "${cmd[@]}" </dev/null >"$log" 2>&1 || status=$?  # not the table's stdin
  restore
  if grep -q "COMPILATION ERROR" "$log"; then
    echo "$name: did not compile (log $log)"
    failed=$((failed + 1))
  elif [ "$status" -ne 0 ] && grep -qE "Tests run: .*(Failures: [1-9]|Errors: [1-9])" "$log"; then
    first="$(grep -m1 -E '^\[ERROR\]   ' "$log" | sed 's/^\[ERROR\] *//' | cut -c1-160)"
    echo "$name: caught by $tests ($first)"
    rm -f "$log"
  else
    echo "$name: NOT CAUGHT by $tests (exit $status; log $log)"
    failed=$((failed + 1))
  fi
done < <(mutations)
[ "$failed" -eq 0 ]
