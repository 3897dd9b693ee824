#!/usr/bin/env bash
# Debian 12 packages the lab and the test suites need (run as root). Daemons are not started here:
# the lab starts its own sshd per host; haproxy/nginx are started by playbooks inside lab hosts.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends \
  openssh-server openssh-client iproute2 util-linux attr sshfs fuse3 sudo procps psmisc \
  haproxy nginx systemd-container ansible-core python3 \
  zip unzip xz-utils tar curl ca-certificates openssl openjdk-17-jdk-headless \
  chromium
# sshd refuses to start without its privilege separation directory (no systemd to create it).
mkdir -p /run/sshd
