#!/usr/bin/env bash
# Builds the class data sharing (AppCDS) archive of epoll-proxy for one JDK: a training run of the
# jar records the classes a forward loads (start, accept, connect, forward, refuse, close, stop),
# then the JDK dumps them, its own and the proxy's, into one static archive that bin/epoll-proxy
# maps at start instead of parsing and verifying those classes again.
#
#   packaging/cds-archive.sh JAVA JAR OUT.jsa
#
# `mvn package` runs it (java/pom.xml) with the JDK that runs Maven; bench/jvm-floor.sh runs it for
# the others. The archive only works with the JVM build that made it and the jar it was made from
# (path, size and time stamp): bin/epoll-proxy names it after the JDK's version and, when it does
# not match anyway, the JVM quietly starts without it. Bounded: the training run is stopped after 30 s
# at most, and killed 30 s (CDS_TRAINING_STOP_S) after a SIGTERM it does not end on. Needs nothing but the JDK and bash; loopback only.
set -euo pipefail

java="$1" jar="$(readlink -f "$2")" out="$3"
tmp="$(mktemp -d)"
pid=""
cleanup() {
  # SIGKILL: a wait must not outlast the script (a JVM started with SIGTERM ignored never ends on it).
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# The JVM flags of bin/epoll-proxy that the archive must agree with (heap size decides the
# compressed-pointer mode recorded in the archive).
flags=(-XX:+UseSerialGC -Xmx256m --enable-native-access=ALL-UNNAMED)
# The native libraries next to the jar, as bin/epoll-proxy passes them: without them the proxy extracts
# its copies into a temporary directory, and that path (temp files, SecureRandom, MessageDigest: about
# 80 JDK classes) would go into the archive, whose every class costs idle RSS (it is relocated, so
# all of it is touched at start) although a start by the launcher never loads them.
native_dir="${jar%.jar}-native"
if [ -d "$native_dir" ]; then
  flags+=("-Depollproxy.native=$native_dir")
fi

# Training: one forward to a port nothing listens on (port 1 of 127.0.0.1: refused on a build
# machine), so one connection goes through accept, connect, a refused connect, the log line and the
# close. Classes the training misses load from the jar as usual. The log exists before the JVM starts:
# the background job's redirection opens it in the child, which a busy machine may schedule after the
# first sed below, and a sed of a file not there yet ended this script (set -e) without an archive.
: >"$tmp/first.log"
"$java" "${flags[@]}" -Xshare:off -XX:DumpLoadedClassList="$tmp/classes.lst" -jar "$jar" \
  -L 127.0.0.1:0:127.0.0.1:1 >"$tmp/first.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 300); do
  port="$(sed -n 's/^listening tcp 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$tmp/first.log")"
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "cds-archive: the training run did not start:" >&2
  cat "$tmp/first.log" >&2
  exit 1
fi
# A connection with bytes on it; the backend refuses, so the proxy closes it and logs the end.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'hello\n' >&3
for _ in $(seq 300); do
  grep -q 'end=' "$tmp/first.log" && break
  sleep 0.1
done
exec 3>&-
kill -TERM "$pid"
# Bounded: a JVM started with SIGTERM ignored (inherited: the JVM installs no handler then) does not stop on
# it, and an unbounded wait would hold `mvn package` forever. What it loaded is in the class list already.
stop_s="${CDS_TRAINING_STOP_S:-30}"
for _ in $(seq $((stop_s * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$pid" 2>/dev/null; then
  echo "cds-archive: the training run did not stop within ${stop_s} s of SIGTERM; killed" >&2
  kill -KILL "$pid" 2>/dev/null || true
fi
wait "$pid" 2>/dev/null || true
pid=""

# JDK 17's static dump can crash archiving lambda proxy classes (SIGSEGV in
# SystemDictionaryShared::adjust_lambda_proxy_class_dictionary, seen with this jar's class list):
# there the lambda entries are left out. JDK 25 archives them, and that is worth keeping: without
# them it generates each lambda's class at start with its class-file API, and the idle proxy held
# 56 MiB instead of 51 (bench/jvm-floor.sh). Versions between are untested, so they go without.
release="$(dirname "$(readlink -f "$(command -v "$java" || echo "$java")")")/../release"
feature="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" 2>/dev/null || true)"
if [ "${feature:-0}" -lt 25 ] 2>/dev/null || [ -z "$feature" ]; then
  sed -i '/^@lambda-proxy/d; /^@lambda-form-invoker/d' "$tmp/classes.lst"
fi

"$java" "${flags[@]}" -Xshare:dump -XX:SharedClassListFile="$tmp/classes.lst" \
  -XX:SharedArchiveFile="$out" -Xlog:cds=off -Xlog:cds+dynamic=off -cp "$jar" >"$tmp/dump.log" 2>&1 || {
  echo "cds-archive: the dump failed:" >&2
  cat "$tmp/dump.log" >&2
  exit 1
}
echo "cds-archive: $out ($(wc -l <"$tmp/classes.lst") classes, $(du -k "$out" | cut -f1) KiB)"
