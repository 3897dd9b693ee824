#!/usr/bin/env bash
# The main job on the embedded lab: a 3-node OB IAM 2.0 cluster (the lab stand-in product) behind
# HAProxy with shared userstores, deployed by playbooks/site.yml. Run from the repository root as root,
# after `npm ci && npm run build`. Re-running it is safe: the lab stays up, the second deployment
# reports changed=0. Extra arguments go to the site.yml run (e.g. --check --diff, -v).
#   bash scripts/lab-site.sh [obiam-run options]
# Afterwards: curl -k https://10.231.170.101/session (through the LB), and `./bin/obiam-run.js lab down`.
set -euo pipefail
cd "$(dirname "$0")/.."
run() { printf '\n$ %s\n' "$*"; "$@"; }
run ./bin/obiam-run.js lab up
run bash scripts/lab-artifacts.sh
run ./bin/obiam-run.js playbooks/site.yml -i inventory/lab.yml --vault-password-file inventory/lab-vault-pass.txt "$@"
