#!/usr/bin/env bash
# Puts the two native libraries the proxy loads, for this machine, next to the jar as plain files:
# the shim (native/linux-<arch>/libepollshim.so in the jar) and jffi's own (jni/<arch>-Linux/
# libjffi-1.2.so). bin/epoll-proxy passes the directory (-Depollproxy.native) and the proxy loads
# both from it when they match the jar's entries (size and CRC-32), so a start copies nothing to the
# temporary directory: it works where /tmp is mounted noexec (docs/internals.md, "The shim and the binding").
# Without the directory, or with another build's files in it, both are extracted as before.
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
