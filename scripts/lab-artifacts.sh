#!/usr/bin/env bash
# Builds everything playbooks/site.yml needs to deploy the LAB STAND-IN product on the lab, into
# lab-product/build/ (or --out DIR):
#   wso2-obiam-2.0.0.zip, wso2-obkm-1.5.0.zip (+ .sha256), wso2carbon.jks    (lab-product/build.sh)
#   jdk-lab-<version>.tar.gz (+ .sha256)   a small runtime made by jlink from the local JDK 17;
#                                          it keeps the JDK's `release` file (preflight reads JAVA_VERSION)
#   jdk-lab-1.8.0_151.tar.gz (+ .sha256)   a FAKE JDK whose release file says 1.8.0_151, for the
#                                          preflight refusal test (it has no working java)
# The JDBC driver jars are the controller's own Debian ones (libmariadb-java, libpostgresql-jdbc-java:
# /usr/share/java/mariadb-java-client.jar, postgresql.jar), which the product role installs.
# Idempotent: existing outputs are kept unless --force. Lab and tests only; real sites use WSO2's
# packs and a real JDK 8 (see docs/site-playbook.md).
#   bash scripts/lab-artifacts.sh [--out DIR] [--force] [--jdk /usr/lib/jvm/java-17-openjdk-amd64]
#                                 [--obiam-spec uk|berlin|au] [--conf-from PRODUCT=DIR]...
# --obiam-spec: the Open Banking spec of the OB IAM pack (uk by default).
# --conf-from obiam=DIR / obkm=DIR (repeatable): DIR is laid out like a pack (repository/conf/...), e.g.
#   the vendor's real configuration files; they replace the stand-in's own in that pack before it is
#   zipped, so the playbooks can be proved against them on the lab. Both options rebuild the packs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/lab-product/build"
jdk=/usr/lib/jvm/java-17-openjdk-amd64
force=0
pack_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --jdk) jdk=$2; shift 2 ;;
    --force) force=1; shift ;;
    --obiam-spec|--conf-from) pack_args+=("$1" "$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 5 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The packs are rebuilt when the stand-in's sources changed since they were built (a stamp of them).
src_stamp=$(cd "$here/lab-product" && find build.sh src pack dbscripts -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)
if [ "$force" = 1 ] || [ ${#pack_args[@]} -gt 0 ] || [ ! -f "$out/wso2-obiam-2.0.0.zip" ] || [ ! -f "$out/wso2-obkm-1.5.0.zip" ] \
  || [ "$(cat "$out/packs.stamp" 2>/dev/null)" != "$src_stamp" ]; then
  bash "$here/lab-product/build.sh" --out "$out" "${pack_args[@]+"${pack_args[@]}"}" >/dev/null
  # Packs built with --obiam-spec/--conf-from are not the default ones: the next plain run rebuilds.
  if [ ${#pack_args[@]} -gt 0 ]; then rm -f "$out/packs.stamp"; else printf '%s\n' "$src_stamp" >"$out/packs.stamp"; fi
fi

[ -f "$jdk/release" ] || { echo "no JDK at $jdk (apt-get install -y openjdk-17-jdk-headless)" >&2; exit 1; }
version=$(sed -n 's/^JAVA_VERSION="\(.*\)"$/\1/p' "$jdk/release")
name="jdk-lab-$version"
# The runtime's module list: a cached runtime built with another list is rebuilt.
modules_stamp="$out/$name.modules"
modules=java.base,java.xml,jdk.httpserver,java.naming,java.management,java.sql,java.sql.rowset,java.security.jgss,jdk.crypto.ec
if [ "$force" = 1 ] || [ ! -f "$out/$name.tar.gz" ] || [ "$(cat "$modules_stamp" 2>/dev/null)" != "$modules" ]; then
  # jdk.crypto.ec: the stand-in serves TLS, whose key exchange needs the EC provider; java.sql: it
  # opens its datasources through the JDBC driver jars (the MariaDB driver needs java.sql.rowset too);
  # java.naming: LDAP over JNDI.
  rm -rf "$work/$name"
  "$jdk/bin/jlink" --add-modules "$modules" \
    --strip-debug --no-header-files --no-man-pages --output "$work/$name"
  # jlink writes its own release file; the JDK's carries JAVA_VERSION as preflight expects it.
  cp "$jdk/release" "$work/$name/release"
  tar -C "$work" -czf "$out/$name.tar.gz" "$name"
  (cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")
  printf '%s\n' "$modules" >"$modules_stamp"
fi

bad=jdk-lab-1.8.0_151
if [ "$force" = 1 ] || [ ! -f "$out/$bad.tar.gz" ]; then
  mkdir -p "$work/$bad/bin"
  printf 'JAVA_VERSION="1.8.0_151"\nOS_NAME="Linux"\nOS_ARCH="amd64"\n' >"$work/$bad/release"
  printf '#!/bin/sh\necho "fake JDK 1.8.0_151 for preflight tests" >&2\nexit 1\n' >"$work/$bad/bin/java"
  chmod 755 "$work/$bad/bin/java"
  tar -C "$work" -czf "$out/$bad.tar.gz" "$bad"
  (cd "$out" && sha256sum "$bad.tar.gz" >"$bad.tar.gz.sha256")
fi

printf 'JDK_LAB_VERSION=%s\n' "$version" >"$out/lab-artifacts.env"
ls -1 "$out"
