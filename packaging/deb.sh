#!/usr/bin/env bash
# Builds the Debian package from the build's outputs, with dpkg-deb (no debhelper):
#
#   packaging/deb.sh TARGET VERSION
#
# TARGET is java/target after `mvn -Pdist package`: the tarball of packaging/dist.sh, the man page and the
# completions (cli.ManPage). `mvn -Pdist,deb package` runs it (java/pom.xml). Output:
# TARGET/epoll-proxy_VERSION_ARCH.deb with
#   /usr/lib/epoll-proxy/          the tarball: bin/epoll-proxy, lib/ (jar, native libraries), runtime/ (jlink)
#   /usr/bin/epoll-proxy           a relative symlink to the launcher (which resolves it)
#   /lib/systemd/system/           epoll-proxy.service and .socket, pointed at /usr/bin and the config below
#   /etc/epoll-proxy.conf          the default configuration (a conffile: an edited one survives upgrades)
#   /usr/share/man/man1/epoll-proxy.1.gz, bash and zsh completion, /usr/share/doc/epoll-proxy/
# The units are installed, not enabled: `systemctl enable --now epoll-proxy` after editing the config.
set -euo pipefail

outdir="$(readlink -f "$1")" version="$2"
tarball="$outdir/epoll-proxy-$version-linux-$(uname -m).tar.gz" man="$outdir/man/epoll-proxy.1" completion="$outdir/completion"
for tool in dpkg-deb dpkg-shlibdeps strip; do
  command -v "$tool" >/dev/null || { echo "deb.sh: $tool is missing: apt-get install dpkg-dev binutils" >&2; exit 1; }
done
for f in "$tarball" "$man" "$completion/epoll-proxy"; do
  [ -e "$f" ] || { echo "deb.sh: $f is missing: build with mvn -B -pl java -Pdist,deb -DskipTests package" >&2; exit 1; }
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Who builds it; set DEB_MAINTAINER to a real address for a package that leaves the building.
maintainer="${DEB_MAINTAINER:-epoll-proxy maintainers <maintainers@epoll-proxy.invalid>}"
arch="$(dpkg --print-architecture)"
name="epoll-proxy_${version}_${arch}"
root="$outdir/deb/$name"

rm -rf "$outdir/deb"
mkdir -p "$root/DEBIAN" "$root/usr/lib/epoll-proxy" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc" \
  "$root/usr/share/man/man1" "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" \
  "$root/usr/share/doc/epoll-proxy"

tar -xzf "$tarball" -C "$root/usr/lib/epoll-proxy" --strip-components=1
rm -f "$root/usr/lib/epoll-proxy/README" # the tarball's own notes; the package has its man page and /usr/share/doc
ln -s ../lib/epoll-proxy/bin/epoll-proxy "$root/usr/bin/epoll-proxy"

# The units as shipped, with the package's paths: the launcher in /usr/bin finds its jar and runtime
# itself, and the default arguments read the conffile. The socket unit listens where that file does.
sed -e 's#^ExecStart=/opt/epoll-proxy/bin/epoll-proxy #ExecStart=/usr/bin/epoll-proxy #' \
    -e '/^Environment=EPOLL_PROXY_JAR=/d' \
    -e 's#^Environment="EPOLL_PROXY_ARGS=.*"$#Environment="EPOLL_PROXY_ARGS=--config /etc/epoll-proxy.conf --drain-timeout 30"#' \
    -e '/^#   install /d' -e '/^#   printf /d' -e '/^#   systemctl daemon-reload/d' -e 's/^# systemd unit for epoll-proxy. Install (as root):$/# systemd unit for epoll-proxy (Debian package)./' \
    "$here/epoll-proxy.service" >"$root/lib/systemd/system/epoll-proxy.service"
sed -e 's#^ListenStream=0.0.0.0:8080$#ListenStream=127.0.0.1:8080#' \
    -e '/^#   install /d' -e '/^#   systemctl daemon-reload/d' \
    "$here/epoll-proxy.socket" >"$root/lib/systemd/system/epoll-proxy.socket"
grep -q '^ExecStart=/usr/bin/epoll-proxy ' "$root/lib/systemd/system/epoll-proxy.service"
grep -q '^ListenStream=127.0.0.1:8080$' "$root/lib/systemd/system/epoll-proxy.socket"

cat >"$root/etc/epoll-proxy.conf" <<'EOF'
# epoll-proxy configuration: rinetd's grammar (man epoll-proxy; /usr/share/doc/epoll-proxy).
# Read by epoll-proxy.service (--config /etc/epoll-proxy.conf); `systemctl reload epoll-proxy` re-reads it
# without cutting open connections. One forward per line:
#
#   bindaddress  bindport  connectaddress  connectport  [options]
#
# 0.0.0.0  80   10.0.0.5  8080                       # expose an internal web server
# 0.0.0.0  443  10.0.0.1  443  [balance=roundrobin, backend=10.0.0.2:443, check=2s]
# ::1      53/udp  10.0.0.53  53/udp  [timeout=20m]
# allow 10.0.0.0/8
# logfile /var/log/epoll-proxy/connections.log      # writable under the unit: LogsDirectory=
#
# The default forwards loopback port 8080 to a local web server on port 80 (and epoll-proxy.socket listens
# on the same address): change it before enabling the service.
127.0.0.1  8080  127.0.0.1  80
EOF
echo "/etc/epoll-proxy.conf" >"$root/DEBIAN/conffiles"

# Debug symbols out of the runtime's native code (lintian: unstripped-binary-or-object). Not the shim and
# libjffi next to the jar: Shim loads them only while they are byte for byte the jar's own copies (size
# and CRC-32), so they stay as built, and the lintian override below says why.
while IFS= read -r -d '' f; do
  if [ "$(head -c 4 "$f" | tr -d '\0')" = $'\x7fELF' ]; then strip --strip-unneeded --remove-section=.comment "$f"; fi
done < <(find "$root/usr/lib/epoll-proxy/runtime" -type f -print0)
mkdir -p "$root/usr/share/lintian/overrides"
cat >"$root/usr/share/lintian/overrides/epoll-proxy" <<'EOF'
# The shim and libjffi stay exactly as the jar holds them: the proxy loads these files only when they
# match the jar's copies (size and CRC-32), and extracts the jar's to a temporary directory otherwise.
epoll-proxy: unstripped-binary-or-object [usr/lib/epoll-proxy/lib/epoll-proxy-native/*]
EOF

gzip -9n <"$man" >"$root/usr/share/man/man1/epoll-proxy.1.gz"
# bash-completion sources the file: no interpreter line (lintian: bash-completion-with-hashbang).
sed '1{/^#!/d}' "$completion/epoll-proxy" >"$root/usr/share/bash-completion/completions/epoll-proxy"
install -m 0644 "$completion/_epoll-proxy" "$root/usr/share/zsh/vendor-completions/_epoll-proxy"
cat >"$root/usr/share/doc/epoll-proxy/copyright" <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: epoll-proxy
Comment: The package carries a jlink'ed OpenJDK runtime (GPL-2 with the Classpath exception), picocli
 (Apache-2.0) and jffi (Apache-2.0 or LGPL-3.0) inside /usr/lib/epoll-proxy.

Files: *
Copyright: 2026 The epoll-proxy authors
License: Apache-2.0
 On Debian systems, the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
EOF
{
  echo "epoll-proxy ($version) unstable; urgency=medium"
  echo
  echo "  * Built from the source tree by packaging/deb.sh."
  echo
  echo " -- $maintainer  $(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")"
} | gzip -9n >"$root/usr/share/doc/epoll-proxy/changelog.gz"

# Library dependencies of the runtime and the shim, as dpkg-shlibdeps finds them (it wants a debian/ tree).
work="$outdir/deb/shlibs"
mkdir -p "$work/debian"
printf 'Source: epoll-proxy\n\nPackage: epoll-proxy\nArchitecture: any\n' >"$work/debian/control"
mapfile -t objects < <(find "$root/usr/lib/epoll-proxy" -type f \( -name '*.so' -o -name '*.so.*' -o -path '*/runtime/bin/*' \))
depends="$(cd "$work" && dpkg-shlibdeps -O "${objects[@]}" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')"
rm -rf "$work"

installed_kib="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
cat >"$root/DEBIAN/control" <<EOF
Package: epoll-proxy
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kib
Depends: ${depends:-libc6}
Section: net
Priority: optional
Description: TCP and UDP port forwarder on the Linux epoll API
 epoll-proxy forwards TCP connections and UDP datagrams from local ports to
 backends, with one non-blocking epoll event loop per thread. It reads
 rinetd's configuration files, balances over several backends with health
 checks, speaks the PROXY protocol, serves Prometheus metrics and restarts
 without refusing a connection. It carries its own Java runtime.
EOF

# Files root-owned whatever user builds, modes as Debian expects.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -perm -u+x -exec chmod 0644 {} +
find "$root" -type f -perm -u+x -exec chmod 0755 {} +
deb="$outdir/$name.deb"
# gzip, not xz: seconds instead of minutes for the 70 MB runtime, for a few MB more.
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "deb: $deb ($(du -k "$deb" | cut -f1) KiB; Depends: ${depends:-libc6})"
