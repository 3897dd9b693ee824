#!/usr/bin/env bash
# Debian 12 packages the benchmark uses besides the project's own (scripts/install-deps.sh):
# GNU time (/usr/bin/time: CPU and peak RSS of each run) and ansible-mitogen (the optional Mitogen peer).
# Run as root, once: `bash bench/install.sh`. `npm run bench` does not install anything itself.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends time ansible-core ansible-mitogen
