#!/usr/bin/env bash
# Builds the self-contained tarball: a jlink'ed Java runtime with only the modules the proxy uses
# (jdeps decides), the jar, the launcher, and the script that makes the class data sharing archive
# in place (the archive records the jar's path, so it cannot travel inside the tarball).
# It runs on a Linux machine of the same architecture with no JDK installed.
#
#   packaging/dist.sh JAVA_HOME JAR VERSION OUTDIR
#
# `mvn -Pdist package` runs it (java/pom.xml). Output: OUTDIR/epoll-proxy-VERSION-linux-ARCH.tar.gz,
# unpacking to epoll-proxy-VERSION/{bin/epoll-proxy, lib/epoll-proxy.jar, lib/cds-archive.sh,
# runtime/, README}.
set -euo pipefail

jdk="$1" jar="$(readlink -f "$2")" version="$3" outdir="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
arch="$(uname -m)"
name="epoll-proxy-$version"
stage="$outdir/dist/$name"

rm -rf "$outdir/dist"
mkdir -p "$stage/bin" "$stage/lib"

# The modules the jar's classes refer to. jffi and picocli mention optional ones (java.sql for
# picocli's converters) that the proxy never needs: --ignore-missing-deps keeps them out.
release_of() { sed -n "s/^$1=\"\\(.*\\)\"/\\1/p" "$2/release"; }
feature="$(release_of JAVA_VERSION "$jdk")"
feature="${feature%%.*}"
modules="$("$jdk/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release "$feature" "$jar")"
# TLS finds its elliptic curves (ECDSA keys, X25519 and P-256 key exchange) as a service provider, which jdeps
# does not see: up to JDK 21 they are the module jdk.crypto.ec, later part of java.base.
if "$jdk/bin/java" --list-modules | grep -q '^jdk\.crypto\.ec@'; then modules="$modules,jdk.crypto.ec"; fi
# No compression: the runtime's `modules` file is mapped at start, and compressed it must be
# inflated (slower start) for a few MB less on disk.
"$jdk/bin/jlink" --add-modules "$modules" --strip-debug --no-man-pages --no-header-files \
  --generate-cds-archive --output "$stage/runtime" >/dev/null

cp "$jar" "$stage/lib/epoll-proxy.jar"
cp "$here/../bin/epoll-proxy" "$stage/bin/epoll-proxy"
cp "$here/cds-archive.sh" "$stage/lib/cds-archive.sh"
bash "$here/native-libs.sh" "$jdk/bin/java" "$stage/lib/epoll-proxy.jar" "$stage/lib/epoll-proxy-native" >/dev/null
runtime_version="$(release_of JAVA_VERSION "$stage/runtime")"
cat >"$stage/README" <<EOF
epoll-proxy $version, with its own Java runtime ($runtime_version; modules: $modules).

    bin/epoll-proxy --help
    bin/epoll-proxy -L 8080:127.0.0.1:80

The launcher uses runtime/ unless JAVA_HOME is set. For a faster start and a smaller footprint,
build the class data sharing archive once, where this directory is going to stay (the archive
records the jar's path; without it the proxy runs the same, only starts slower):

    lib/cds-archive.sh runtime/bin/java lib/epoll-proxy.jar lib/epoll-proxy-jdk$runtime_version.jsa
EOF

tarball="$outdir/$name-linux-$arch.tar.gz"
tar -C "$outdir/dist" -czf "$tarball" "$name"
echo "dist: $tarball ($(du -k "$tarball" | cut -f1) KiB; runtime modules: $modules)"
