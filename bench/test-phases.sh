#!/usr/bin/env bash
# Where the test command's time and CPU go, phase by phase: clones a commit into a temp dir, runs
# `bin/setup && mvn -B verify` there under process accounting (acct), and prints each phase's wall time
# (Maven's own timestamps) and CPU-seconds (user + system of every process that ended, by process tree).
#
#   bench/test-phases.sh [COMMIT]        default HEAD; as root, with acct installed (apt-get install acct)
#
# Each process the Maven JVM started (the test JVMs, cmake, the packaging scripts) counts in the phase
# it started in, with all its descendants (the jars, the fuzz JVM, openssl, ...); Maven's own JVM is a
# line of its own (javac, shade and the plugins run in it). Process accounting records every process on
# the machine, so other builds running meanwhile change nothing here, but they slow the run down: the
# wall times mean something on a quiet machine only. The clone and the log are kept in the temp dir.
set -euo pipefail
repo="$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)"
rev="$(git -C "$repo" rev-parse "${1:-HEAD}")"
command -v accton >/dev/null && command -v dump-acct >/dev/null || { echo "needs acct: apt-get install acct (and root)" >&2; exit 1; }
dir="$(mktemp -d "${TMPDIR:-/tmp}/test-phases.XXXXXX")"
git clone -q "$repo" "$dir/repo" && git -C "$dir/repo" checkout -q "$rev"
touch "$dir/acct"
accton "$dir/acct" >/dev/null
trap 'accton off >/dev/null 2>&1 || true' EXIT
echo "# $(date -u +%FT%TZ) ${rev:0:7}, load at the start: $(cut -d' ' -f1-3 /proc/loadavg); clone and log in $dir"
rc=0
# The default signal dispositions: the signal tests need them (see bench/loaded-ci.sh).
(cd "$dir/repo" && env --default-signal /usr/bin/time -o "$dir/time" -f '%U %S %e' bash -c 'echo $$ >../pid; exec bash -c "bin/setup && mvn -B verify -Dorg.slf4j.simpleLogger.showDateTime=true -Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS"' \
  >"$dir/log" 2>&1 </dev/null) || rc=$?
accton off >/dev/null
trap - EXIT
dump-acct "$dir/acct" >"$dir/acct.txt"
echo "# exit $rc; $(tail -1 "$dir/time" | awk '{printf "%.1f CPU-seconds (%.1f user, %.1f system), %.1f s", $1 + $2, $1, $2, $3}'); load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$dir/acct.txt" "$dir/log" "$(cat "$dir/pid")" <<'EOF'
import collections, datetime, re, sys
acct, log, root = sys.argv[1], sys.argv[2], int(sys.argv[3])
procs = []
for line in open(acct):
    f = [x.strip() for x in line.split('|')]
    if len(f) < 15: continue
    procs.append(dict(cpu=(float(f[2]) + float(f[3])) / 100, pid=int(f[9]), ppid=int(f[10]),
                      start=datetime.datetime.strptime(f[14], '%a %b %d %H:%M:%S %Y')))
# A parent is the latest process of that pid started no later than the child (pids are reused).
by_pid = collections.defaultdict(list)
for p in procs: by_pid[p['pid']].append(p)
kids = collections.defaultdict(list)
for p in procs:
    cands = [c for c in by_pid.get(p['ppid'], []) if c['start'] <= p['start'] and c is not p]
    if cands: kids[id(max(cands, key=lambda c: c['start']))].append(p)
def tree(p): return p['cpu'] + sum(tree(k) for k in kids[id(p)])
tops = [p for p in by_pid.get(root, [])]
if not tops: sys.exit('the command\'s process is not in the accounting file')
top = max(tops, key=tree)
# Maven's JVM: the first process, breadth first, with seconds of CPU of its own (the shells above it and
# bin/setup's commands have next to none).
queue, mvn = [top], None
while queue and mvn is None:
    p = queue.pop(0)
    if p['cpu'] >= 2: mvn = p
    queue.extend(sorted(kids[id(p)], key=lambda k: k['start']))
if mvn is None: sys.exit('no Maven JVM in the accounting file')
# Phases from Maven's timestamps: a mojo line starts its phase.
marks = []
day = mvn['start'].date()
for line in open(log):
    m = re.match(r'(\d\d:\d\d:\d\d)\.\d+ \[INFO\] --- ([\w.-]+):[\w.-]+:([\w-]+) \(([\w-]+)\) @ ([\w-]+)', line)
    if m: marks.append((datetime.datetime.combine(day, datetime.time.fromisoformat(m.group(1))), m.group(2), m.group(3), m.group(4), m.group(5)))
end = re.findall(r'(\d\d:\d\d:\d\d)\.\d+ \[INFO\] (?:BUILD|Total time)', open(log).read())
def phase(mojo):
    plugin, goal, exe, module = mojo
    if module.endswith('bench'): return 'bench module'
    if plugin == 'maven-surefire-plugin': return 'unit tests (surefire)'
    if plugin == 'maven-failsafe-plugin': return 'process tests (failsafe)'
    if plugin in ('maven-jar-plugin', 'maven-shade-plugin', 'maven-antrun-plugin') or exe == 'ctest': return 'package'
    return 'cmake and javac'
order, wall, cpu = [], collections.Counter(), collections.Counter()
for i, (t, *mojo) in enumerate(marks):
    ph = phase(mojo)
    if ph not in order: order.append(ph)
    nxt = marks[i + 1][0] if i + 1 < len(marks) else (datetime.datetime.combine(day, datetime.time.fromisoformat(end[-1])) if end else t)
    wall[ph] += (nxt - t).total_seconds()
def phase_at(t):
    ph = 'cmake and javac'
    for (m, *mojo) in marks:
        if m <= t: ph = phase(mojo)
    return ph
for k in kids[id(mvn)]: cpu[phase_at(k['start'])] += tree(k)
outside = tree(top) - tree(mvn)
print('%-28s %8s %12s' % ('phase', 'wall s', 'CPU-seconds'))
for ph in order: print('%-28s %8.0f %12.1f' % (ph, wall[ph], cpu[ph]))
print('%-28s %8s %12.1f' % ("Maven's JVM (all phases)", '', mvn['cpu']))
print('%-28s %8s %12.1f' % ('bin/setup and the shell', '', outside))
print('%-28s %8s %12.1f  (the sum; /usr/bin/time above also counts what ended outside the tree)' % ('in all', '', tree(top)))
EOF
exit "$rc"
