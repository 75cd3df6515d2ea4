#!/usr/bin/env bash
# Puts the two native libraries the proxy loads, for this machine, next to the jar as plain files:
# the shim (native/linux-<arch>/libepollshim.so in the jar) and jffi's own (jni/<arch>-Linux/
# libjffi-1.2.so). bin/epoll-proxy passes them to the JVM (-Depollproxy.shim, -Djffi.boot.library.path)
# when the directory is not older than the jar, so a start copies nothing to the temporary directory:
# it works where /tmp is mounted noexec, and starts 10-20 ms sooner (no temporary directory, no copy,
# no SHA-256 of the library; README, "Memory and JVM flags"). Without the directory, both are
# extracted as before.
#
#   packaging/native-libs.sh JAVA JAR OUTDIR      # JAVA: a JDK's bin/java (its jar tool extracts)
#
# `mvn package` runs it (java/pom.xml) into java/target/epoll-proxy-native/; packaging/dist.sh into
# the tarball's lib/epoll-proxy-native/.
set -euo pipefail

java="$1" jar="$(readlink -f "$2")" out="$3"
case "$(uname -m)" in
  x86_64) shim_arch=amd64 jffi_arch=x86_64 ;;
  aarch64) shim_arch=aarch64 jffi_arch=aarch64 ;;
  *) echo "native-libs: no libraries in the jar for $(uname -m)" >&2; exit 1 ;;
esac
shim="native/linux-$shim_arch/libepollshim.so"
jffi="jni/$jffi_arch-Linux/libjffi-1.2.so"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && "$(dirname "$(readlink -f "$java")")/jar" xf "$jar" "$shim" "$jffi")
for f in "$shim" "$jffi"; do
  [ -f "$tmp/$f" ] || { echo "native-libs: $f is not in $jar" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out"
cp "$tmp/$shim" "$tmp/$jffi" "$out/"
echo "native-libs: $out ($(basename "$shim"), $(basename "$jffi"))"
