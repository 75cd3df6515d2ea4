#!/usr/bin/env bash
# What the JIT does in a fresh proxy's first seconds: its CPU per connection in each second from the
# listening line, and from HotSpot's compilation log (-XX:+LogCompilation) the uncommon traps (deoptimizations)
# in the proxy's own code from half a second before `listening` until it is stopped (SIGTERM, after the
# spells), and its methods compiled after `listening`. A warm-up that leaves the forwarding path compiled
# shows no trap that threw compiled code away and no compile of org.epollproxy after `listening`; a trap
# names the branch or type the warm-up's traffic never took (method@bci). Traps whose action is
# maybe_recompile keep the compiled code (only that call went to the interpreter) and are counted apart:
# the main thread's class_check in EventLoop.register as it starts the real forward is one.
#
#   bench/first-second-jit.sh --warmup auto                  # any proxy options (the forward is added), 3 starts
#   JIT_STARTS=5 JIT_SECONDS=4 bench/first-second-jit.sh --warmup auto
#   JAVA_EXTRA_OPTS=-XX:PerMethodTrapLimit=0 bench/first-second-jit.sh --warmup auto
#   JIT_KEEP=/tmp/jit bench/first-second-jit.sh --warmup auto # keep each start's logs there
#   JIT_LOG=1 bench/first-second-jit.sh --warmup auto         # without --quiet: a log line per connection
#
# The echo backend (a JVM, warmed first) and the C load client (bench/native/loadclient.c connrate, 4 threads
# of connect, 64 bytes there and back, close; CPU_PIDS gives the proxy's CPU per connection) as in
# bench/first-second-threads.sh. Needs python3 to read the log. Loopback only; every process stopped by PID.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$root"

STARTS="${JIT_STARTS:-3}"
SECONDS_N="${JIT_SECONDS:-3}"
KEEP="${JIT_KEEP:-}"
quiet=(--quiet)
[ "${JIT_LOG:-0}" = 1 ] && quiet=()
loadclient="$root/bench/target/jni-build/loadclient"
need_jar java/target/epoll-proxy.jar
need_jar bench/target/benchmarks.jar
[ -x "$loadclient" ] || { echo "no $loadclient: build the bench module (mvn -B -q -pl bench package -DskipTests)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "first-second-jit: needs python3" >&2; exit 2; }

# traps.py DIR: from DIR/proxy.log (PrintCompilation lines and the proxy's stderr, in order) the JVM's uptime
# at `listening`; from DIR/comp.log the traps in org.epollproxy code from 0.5 s before it on, and the
# org.epollproxy methods C2 compiled after it.
cat >"$work/traps.py" <<'PY'
import re, sys
d = sys.argv[1]
listen, last = None, 0.0
for line in open(d + '/proxy.log', errors='replace'):
    m = re.match(r'\s+(\d+)\s+\d+\s', line)
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
c2 = [m for m in re.finditer(r"<nmethod compile_id='(\d+)' compiler='c2'[^>]*?method='([^']*)'[^>]*?stamp='([\d.]+)'", log)
      if float(m.group(3)) > listen and m.group(2).startswith('org.epollproxy')]
print('  %d trap(s) in org.epollproxy code from 0.5 s before listening that threw compiled code away (%d more that kept it); %d org.epollproxy method(s) compiled by C2 after it%s'
      % (traps, kept, len(c2), (': ' + ', '.join('%s %+.1fs' % (short(' '.join(m.group(2).split(' ')[:2])), float(m.group(3)) - listen) for m in c2[:12]) + (' ...' if len(c2) > 12 else '')) if c2 else ''))
PY

base=$((10000 + (RANDOM % 400) * 20))
echo_port=$base
fwd_port=$((base + 1))
java -XX:+UseSerialGC -cp bench/target/benchmarks.jar org.epollproxy.bench.EchoServer "$echo_port" >"$work/echo.log" 2>&1 &
pids+=($!)
wait_line "$work/echo.log" "^echo" 60 || { cat "$work/echo.log" >&2; exit 1; }
"$loadclient" connrate "$echo_port" 4 3 0 >/dev/null # the backend's JIT, before any proxy

echo "date: $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg); proxy options: ${quiet[*]} $*; JAVA_EXTRA_OPTS: ${JAVA_EXTRA_OPTS:-}"
for start in $(seq "$STARTS"); do
  d="$work/start$start"
  mkdir -p "$d"
  JAVA_EXTRA_OPTS="${JAVA_EXTRA_OPTS:-} -XX:+UnlockDiagnosticVMOptions -XX:+LogCompilation -XX:LogFile=$d/comp.log -XX:+PrintCompilation" \
    bin/epoll-proxy "${quiet[@]}" "$@" -L "$fwd_port:127.0.0.1:$echo_port" >"$d/proxy.log" 2>&1 &
  proxy=$!
  pids+=("$proxy")
  wait_line "$d/proxy.log" '^listening' 120
  line="start $start:"
  for s in $(seq "$SECONDS_N"); do
    out="$(CPU_PIDS=$proxy "$loadclient" connrate "$fwd_port" 4 1 0)"
    n="$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")"
    us="$(sed -n 's/.*cpu_us_per_op=\([0-9.]*\).*/\1/p' <<<"$out")"
    line="$line second $s: $n connections, $us µs CPU per connection;"
  done
  echo "$line"
  grep 'warm-up' "$d/proxy.log" | sed 's/^[^ ]* /  /' || true
  stop_pids "$proxy"
  python3 "$work/traps.py" "$d"
  if [ -n "$KEEP" ]; then mkdir -p "$KEEP"; cp -r "$d" "$KEEP/"; fi
done
