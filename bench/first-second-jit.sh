#!/usr/bin/env bash
# What the JIT does in a fresh proxy's first seconds: its CPU per connection in each second from the
# listening line, and from HotSpot's compilation log (-XX:+LogCompilation) the uncommon traps (deoptimizations)
# in the proxy's own code from half a second before `listening` until it is stopped (SIGTERM, after the
# spells), its methods compiled after `listening`, and how far each of those had got by then. A warm-up that
# leaves the forwarding path compiled shows no trap that threw compiled code away and no compile of
# org.epollproxy after `listening`; a trap names the branch or type the warm-up's traffic never took
# (method@bci). Traps whose action is maybe_recompile keep the compiled code (only that call went to the
# interpreter) and are counted apart: the main thread's class_check in EventLoop.register as it starts the
# real forward is one. "at tier 2" counts the proxy's methods whose code at `listening` is C1's with
# counters only (limited profile), never C2's: HotSpot puts a method there while it waits (a long C2 queue,
# or on JDK 25 a method the ahead-of-time cache's training run compiled only with C1), and moves it on
# after many more calls; each one compiled again after `listening` shows its tiers (2>3>4) and when.
#
#   bench/first-second-jit.sh --warmup auto                  # any proxy options (the forward is added), 3 starts
#   JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 bench/first-second-jit.sh --warmup auto   # another JDK
#   JIT_STARTS=5 JIT_SECONDS=4 bench/first-second-jit.sh --warmup auto
#   JAVA_EXTRA_OPTS=-XX:PerMethodTrapLimit=0 bench/first-second-jit.sh --warmup auto
#   JIT_KEEP=/tmp/jit bench/first-second-jit.sh --warmup auto # keep each start's logs there
#   JIT_LOG=1 bench/first-second-jit.sh --warmup auto         # without --quiet: a log line per connection
#
# The proxy runs on the JDK bin/epoll-proxy picks: JAVA_HOME's, else `java`. On JDK 25 and later the
# launcher's ahead-of-time cache is made first, in an unmeasured start without the JIT log (its training
# run as an operator's first start runs it), in a cache directory of this run's own (EPOLL_PROXY_CACHE_DIR
# to use another, e.g. to keep one between runs); every start then maps it, and its AOT log (-Xlog:aot,
# in the kept logs as aot.log) says so. How many of the proxy's methods the cache's training run compiled
# with C2 is printed first (HotSpot's -XX:+AOTPrintTrainingInfo; training.txt in the kept logs). EPOLL_PROXY_CDS_ARCHIVE="" runs without it, as the launcher does.
# A proxy that exits before `listening` (a port taken, a bad option) fails the script at once with its output.
#
# The echo backend (a JVM on `java`, warmed first) and the C load client (bench/native/loadclient.c connrate,
# 4 threads of connect, 64 bytes there and back, close; CPU_PIDS gives the proxy's CPU per connection) as in
# bench/first-second-threads.sh. Needs python3 to read the log. Loopback only; every process stopped by PID.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

STARTS="${JIT_STARTS:-3}"
SECONDS_N="${JIT_SECONDS:-3}"
KEEP="${JIT_KEEP:-}"
quiet=(--quiet)
[ "${JIT_LOG:-0}" = 1 ] && quiet=()
need_jar java/target/epoll-proxy.jar
need_jar bench/target/benchmarks.jar
native_tools || exit 2 # sets loadclient (built or brought up to date)
command -v python3 >/dev/null || { echo "first-second-jit: needs python3" >&2; exit 2; }

# traps.py DIR: from DIR/proxy.log (PrintCompilation lines and the proxy's stderr, in order) the JVM's uptime
# at `listening`; from DIR/comp.log the traps in org.epollproxy code from 0.5 s before it on, the
# org.epollproxy methods C2 compiled after it, those whose code at `listening` was tier 2 (C1, counters
# only), and the tiers of each method compiled again after it.
cat >"$work/traps.py" <<'PY'
import re, sys
d = sys.argv[1]
listen, last = None, 0.0
for line in open(d + '/proxy.log', errors='replace'):
    # PrintCompilation: the uptime in ms first, right-aligned in 7 columns on JDK 17, unpadded on JDK 25
    m = re.match(r'\s*(\d+)\s+\d+\s', line)
    if m: last = int(m.group(1)) / 1000.0
    if line.startswith('listening'):
        listen = last
        break
if listen is None:
    print('  no listening line'); sys.exit(0)
log = open(d + '/comp.log', errors='replace').read()
name = {}
for m in re.finditer(r"<(?:nmethod|task_queued|task) compile_id='(\d+)'[^>]*?method='([^']*)'", log):
    name.setdefault(m.group(1), ' '.join(m.group(2).split(' ')[:2]))
def short(s): return s.replace('org.epollproxy.', '').replace(' ', '.')
traps, kept = 0, 0
for m in re.finditer(r"<uncommon_trap thread='\d+' reason='([^']*)' action='([^']*)'[^>]*?compile_id='(\d+)'[^>]*?stamp='([\d.]+)'[^>]*>((?:\s*<jvms[^>]*>)*)", log):
    t = float(m.group(4)) - listen
    where = [' '.join(j.group(2).split(' ')[:2]) + '@' + j.group(1) for j in re.finditer(r"bci='(\d+)' method='([^']*)'", m.group(5))]
    if t < -0.5 or not any('org.epollproxy' in w for w in where + [name.get(m.group(3), '')]): continue
    # maybe_recompile and none leave the compiled code in place (only that call went to the interpreter)
    if m.group(2) in ('maybe_recompile', 'none'): kept += 1
    else: traps += 1
    print('  trap %+.3f s %s/%s in %s at %s' % (t, m.group(1), m.group(2), short(name.get(m.group(3), '?')), ' <- '.join(short(w) for w in where)))
# Each org.epollproxy method's compiles (not OSR) in order: (uptime, tier)
tiers = {}
for m in re.finditer(r"<nmethod compile_id='\d+' (?:compile_kind='[^']*' )?compiler='(?:c1|c2)' level='(\d)'[^>]*?method='(org\.epollproxy[^']*)'[^>]*?stamp='([\d.]+)'", log):
    if "compile_kind='osr'" in m.group(0): continue
    tiers.setdefault(' '.join(m.group(2).split(' ')[:2]), []).append((float(m.group(3)), int(m.group(1))))
c2 = sorted((ts, short(k)) for k, v in tiers.items() for ts, lvl in v if lvl == 4 and ts > listen)
print('  %d trap(s) in org.epollproxy code from 0.5 s before listening that threw compiled code away (%d more that kept it); %d org.epollproxy method(s) compiled by C2 after it%s'
      % (traps, kept, len(c2), (': ' + ', '.join('%s %+.1fs' % (n, ts - listen) for ts, n in c2[:12]) + (' ...' if len(c2) > 12 else '')) if c2 else ''))
at = {k: [lvl for ts, lvl in v if ts <= listen] for k, v in tiers.items()}
tier2 = [k for k, b in at.items() if b and b[-1] == 2 and 4 not in b]
again = [(k, b[-1] if b else 0, [(ts - listen, lvl) for ts, lvl in tiers[k] if ts > listen]) for k, b in at.items()]
again = sorted((a for a in again if a[2]), key=lambda a: a[2][-1][0])
print('  at listening, %d org.epollproxy method(s) at tier 2 (C1, counters only, never C2); last C2 compile of one %s; compiled after listening: %s'
      % (len(tier2), ('%+.1f s after listening' % (c2[-1][0] - listen)) if c2 else 'before listening',
         ', '.join('%s %s' % (short(k), '>'.join([str(b)] + ['%d %+.1fs' % (lvl, t) for t, lvl in after])) for k, b, after in again[:12]) + (' ...' if len(again) > 12 else '') if again else 'none'))
PY

# wait_started PID FILE REGEX SECONDS: until a line of FILE matches REGEX; a process that is gone before
# (a port another program holds, a bad option) fails the script at once with its output, instead of
# waiting out the time.
wait_started() {
  local i
  for i in $(seq $(( $4 * 10 ))); do
    grep -qE "$3" "$2" 2>/dev/null && return 0
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1" 2>/dev/null && rc=0 || rc=$?
      echo "first-second-jit: the process exited (status $rc) before printing '$3'; its output (without the JIT's):" >&2
      grep -vE '^ *[0-9]+ +[0-9]+ ' "$2" | tail -20 >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "first-second-jit: no line matching '$3' in $2 after $4 s; its output (without the JIT's):" >&2
  grep -vE '^ *[0-9]+ +[0-9]+ ' "$2" | tail -20 >&2
  exit 1
}

base=$((10000 + (RANDOM % 400) * 20))
echo_port=$base
fwd_port=$((base + 1))
java -XX:+UseSerialGC -cp bench/target/benchmarks.jar org.epollproxy.bench.EchoServer "$echo_port" >"$work/echo.log" 2>&1 &
pids+=($!)
wait_started "$!" "$work/echo.log" "^echo" 60
"$loadclient" connrate "$echo_port" 4 3 0 >/dev/null # the backend's JIT, before any proxy

# The JDK bin/epoll-proxy runs (JAVA_HOME's, else `java`) and its feature version, from its release file.
java_bin="$(command -v "${JAVA_HOME:+$JAVA_HOME/bin/}java")"
feature="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$(dirname "$(readlink -f "$java_bin")")/../release" 2>/dev/null || true)"
aot_log=()
if [ "${feature:-0}" -ge 25 ] 2>/dev/null && [ -z "${EPOLL_PROXY_CDS_ARCHIVE+set}" ]; then
  # The ahead-of-time cache from an unmeasured first start, without the JIT log: the training run as an
  # operator's first start runs it (JAVA_EXTRA_OPTS too, so that the cache fits the measured starts).
  export EPOLL_PROXY_CACHE_DIR="${EPOLL_PROXY_CACHE_DIR:-$work/cache}"
  bin/epoll-proxy --quiet -L "127.0.0.1:0:127.0.0.1:$echo_port" >"$work/first.log" 2>&1 &
  first=$!
  pids+=("$first")
  wait_started "$first" "$work/first.log" '^listening' 240
  stop_pids "$first"
  aot="$(ls -t "$EPOLL_PROXY_CACHE_DIR"/*.aot 2>/dev/null | head -1)"
  [ -s "$aot" ] || { echo "first-second-jit: the launcher made no ahead-of-time cache:" >&2; cat "$work/first.log" >&2; exit 1; }
  echo "ahead-of-time cache: $aot ($(du -m "$aot" | cut -f1) MB)$(grep -q 'making the ahead-of-time cache' "$work/first.log" && echo ', made by this run')"
  # Its training data (HotSpot's AOTPrintTrainingInfo at a --version start): the proxy's methods its training
  # run compiled with C2 (tier 4). A start trusts it: the others wait in C1 for many more calls.
  JAVA_EXTRA_OPTS="${JAVA_EXTRA_OPTS:-} -XX:+UnlockDiagnosticVMOptions -XX:+AOTPrintTrainingInfo" bin/epoll-proxy --version >"$work/training.txt" 2>&1 || true
  c2="$(sed -n 's/^ *C \(org\/epollproxy\/[^#]*\)#[0-9]*L4\b.*/\1/p' "$work/training.txt" | sort -u)"
  echo "  its training run compiled $(grep -c . <<<"$c2") of the proxy's methods with C2, among them: $(grep -oE 'EventLoop\[L\]\.(runOnce|dispatch)|TcpListener\[L\]\.(pair|acceptSome)|Pair\[L\]\.read\(' <<<"$c2" | sed 's/\[L\]//; s/($//' | sort -u | tr '\n' ' ')"
  [ -n "$KEEP" ] && { mkdir -p "$KEEP"; cp "$work/training.txt" "$KEEP/"; }
  aot_log=(-Xlog:aot=info)
fi

echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); java: $java_bin (${feature:-?}); proxy options: ${quiet[*]} $*; JAVA_EXTRA_OPTS: ${JAVA_EXTRA_OPTS:-}"
for start in $(seq "$STARTS"); do
  d="$work/start$start"
  mkdir -p "$d"
  JAVA_EXTRA_OPTS="${JAVA_EXTRA_OPTS:-} -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=$d/comp.log -XX:+PrintCompilation${aot_log:+ ${aot_log[*]}:file=$d/aot.log}" \
    bin/epoll-proxy "${quiet[@]}" "$@" -L "$fwd_port:127.0.0.1:$echo_port" >"$d/proxy.log" 2>&1 &
  proxy=$!
  pids+=("$proxy")
  wait_started "$proxy" "$d/proxy.log" '^listening' 120
  line="start $start:"
  for s in $(seq "$SECONDS_N"); do
    out="$(CPU_PIDS=$proxy "$loadclient" connrate "$fwd_port" 4 1 0)"
    n="$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")"
    us="$(sed -n 's/.*cpu_us_per_op=\([0-9.]*\).*/\1/p' <<<"$out")"
    line="$line second $s: $n connections, $us µs CPU per connection;"
  done
  echo "$line"
  grep 'warm-up' "$d/proxy.log" | sed 's/^[^ ]* /  /' || true
  if [ -n "${aot_log[*]}" ]; then
    grep -q 'Using AOT-linked classes: true' "$d/aot.log" 2>/dev/null && echo "  the ahead-of-time cache mapped" || echo "  the ahead-of-time cache NOT mapped (see aot.log)"
  fi
  stop_pids "$proxy"
  python3 "$work/traps.py" "$d"
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; cp -r "$d" "$KEEP/"; fi
done
