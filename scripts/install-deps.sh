#!/usr/bin/env bash
# Debian 12 packages the lab and the test suites need (run as root). Daemons are not started here:
# the lab starts its own sshd per host, and its own MariaDB and slapd (own data dirs under .lab/;
# PostgreSQL for the stand-in's PostgreSQL test);
# haproxy/nginx are started by playbooks inside lab hosts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# Packages with a daemon (mariadb-server, slapd, postgresql, ...) would start it on install: a
# policy-rc.d that refuses every start keeps them off (removed again however the script ends).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# obiam-run install-deps.sh: no daemon starts while packages are installed.\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
# slapd asks for a domain and an admin password: no questions, no directory of its own (the lab makes one).
echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections
apt-get update
apt-get install -y --no-install-recommends \
  openssh-server openssh-client iproute2 util-linux attr sshfs fuse3 sudo procps psmisc \
  haproxy nginx systemd-container ansible-core python3 \
  zip unzip xz-utils tar curl ca-certificates openssl openjdk-17-jdk-headless \
  chromium \
  mariadb-server mariadb-client slapd ldap-utils libmariadb-java libpostgresql-jdbc-java postgresql
# sshd refuses to start without its privilege separation directory (no systemd to create it).
mkdir -p /run/sshd
