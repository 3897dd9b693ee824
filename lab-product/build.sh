#!/usr/bin/env bash
# Builds the LAB STAND-IN product packs from source (no binary is committed):
#   wso2-obiam-<version>.zip (reads deployment.toml) and wso2-obkm-<version>.zip (reads the XML files),
# plus a .sha256 beside each. For the lab and the tests only; it is not WSO2's product.
#   bash lab-product/build.sh [--out DIR] [--obiam-version 2.0.0] [--obkm-version 1.5.0] [--fail-start]
#                             [--obiam-spec uk|berlin|au] [--conf-from PRODUCT=DIR]...
# --fail-start builds packs that refuse to start (for rollback tests).
# --obiam-spec: the Open Banking spec of the OB IAM pack (its deployment.toml, pack/obiam/spec/<spec>); uk by default.
# --conf-from obiam=DIR / obkm=DIR: DIR is laid out like a pack (repository/conf/...); its files replace
#   the stand-in's own in that pack (e.g. the vendor's real configuration files), repeatable.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out="$here/build"
obiam_version=2.0.0
obkm_version=1.5.0
fail=0
obiam_spec=uk
conf_from=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --obiam-version) obiam_version=$2; shift 2 ;;
    --obkm-version) obkm_version=$2; shift 2 ;;
    --fail-start) fail=1; shift ;;
    --obiam-spec) obiam_spec=$2; shift 2 ;;
    --conf-from) conf_from+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 5 ;;
  esac
done
case "$obiam_spec" in uk|berlin|au) ;; *) echo "--obiam-spec must be uk, berlin or au, not '$obiam_spec'" >&2; exit 5 ;; esac
for c in "${conf_from[@]+"${conf_from[@]}"}"; do
  case "$c" in
    obiam=*|obkm=*) [ -d "${c#*=}" ] || { echo "--conf-from $c: ${c#*=} is not a directory" >&2; exit 5; } ;;
    *) echo "--conf-from takes obiam=DIR or obkm=DIR, not '$c'" >&2; exit 5 ;;
  esac
done
for tool in javac jar keytool zip sha256sum; do
  command -v "$tool" >/dev/null || { echo "build.sh needs $tool (apt-get install -y openjdk-17-jdk-headless zip)" >&2; exit 1; }
done
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# --release 8: the packs must run on the JDK 8 that real OB KM 1.5 nodes have.
javac --release 8 -Xlint:-options -d "$work/classes" "$here"/src/lab/standin/*.java
jar cf "$work/lab-standin.jar" -C "$work/classes" .

pack() { # profile version name
  local profile=$1 version=$2 name=$3 dir="$work/wso2-$1-$2"
  mkdir -p "$dir/bin" "$dir/lib" "$dir/repository/components/lib" "$dir/repository/deployment/server/userstores" \
    "$dir/repository/logs" "$dir/repository/resources/security" "$dir/repository/tenants"
  cp "$here/pack/common/bin/wso2server.sh" "$dir/bin/"
  [ -d "$here/pack/$profile/repository" ] && cp -r "$here/pack/$profile/repository/." "$dir/repository/"
  [ "$profile" = obiam ] && cp -r "$here/pack/obiam/spec/$obiam_spec/repository/." "$dir/repository/"
  local c
  for c in "${conf_from[@]+"${conf_from[@]}"}"; do
    if [ "${c%%=*}" = "$profile" ]; then
      cp -r "${c#*=}/." "$dir/"
      echo "$profile: configuration files from ${c#*=}" >&2
    fi
  done
  cp "$work/lab-standin.jar" "$dir/lib/"
  # The pack's own schema scripts, one directory per datasource (the keys of ob_datasources), as the
  # database play runs them: dbscripts/<datasource>/{mysql,postgresql}.sql. OB KM has no identity_db.
  local ds
  for ds in $( [ "$profile" = obiam ] && echo identity ) shared config um apim open_banking; do
    mkdir -p "$dir/dbscripts/$ds"
    cp "$here/dbscripts/$ds/"*.sql "$dir/dbscripts/$ds/"
  done
  printf 'PRODUCT_NAME="%s"\nPRODUCT_VERSION="%s"\nLAB_PROFILE="%s"\n' "$name" "$version" "$profile" >"$dir/bin/product.env"
  [ "$fail" = 1 ] && : >"$dir/bin/lab-fail-start"
  touch "$dir/repository/deployment/server/userstores/.keep" "$dir/repository/components/lib/.keep" "$dir/repository/logs/.keep" "$dir/repository/tenants/.keep"
  printf 'LAB STAND-IN for %s %s, built from obiam-run/lab-product for the lab and tests only.\n' "$name" "$version" >"$dir/README-LAB-STANDIN.txt"
  # The same default keystore in every pack, as WSO2 ships wso2carbon.jks (password wso2carbon).
  if [ ! -f "$out/wso2carbon.jks" ]; then
    keytool -genkeypair -alias wso2carbon -keyalg RSA -keysize 2048 -validity 3650 -dname "CN=localhost, O=obiam-run lab stand-in" \
      -keystore "$out/wso2carbon.jks" -storetype JKS -storepass wso2carbon -keypass wso2carbon >/dev/null 2>&1
  fi
  cp "$out/wso2carbon.jks" "$dir/repository/resources/security/wso2carbon.jks"
  # And the truststore that trusts it (client-truststore.jks, password wso2carbon).
  if [ ! -f "$out/client-truststore.jks" ]; then
    keytool -exportcert -alias wso2carbon -keystore "$out/wso2carbon.jks" -storepass wso2carbon -file "$work/wso2carbon.cer" >/dev/null 2>&1
    keytool -importcert -noprompt -alias wso2carbon -file "$work/wso2carbon.cer" -keystore "$out/client-truststore.jks" \
      -storetype JKS -storepass wso2carbon >/dev/null 2>&1
  fi
  cp "$out/client-truststore.jks" "$dir/repository/resources/security/client-truststore.jks"
  (cd "$work" && rm -f "$out/wso2-$profile-$version.zip" && zip -qr -X "$out/wso2-$profile-$version.zip" "wso2-$profile-$version")
  (cd "$out" && sha256sum "wso2-$profile-$version.zip" >"wso2-$profile-$version.zip.sha256")
  echo "$out/wso2-$profile-$version.zip"
}
pack obiam "$obiam_version" "WSO2 Open Banking IAM"
pack obkm "$obkm_version" "WSO2 Open Banking Key Manager"
