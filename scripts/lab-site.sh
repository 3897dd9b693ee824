#!/usr/bin/env bash
# The main job on the embedded lab: a 3-node OB IAM 2.0 cluster (the lab stand-in product) behind
# HAProxy with shared userstores, deployed by playbooks/site.yml. Run from the repository root as root,
# after `npm ci && npm run build`. Re-running it is safe: the lab stays up, the second deployment
# reports changed=0. Extra arguments go to the site.yml run (e.g. --check --diff, -v).
#   bash scripts/lab-site.sh [--name LAB] [obiam-run options]
# --name LAB uses (and brings up) the lab of that name instead of the default one, with its own
# .lab/LAB/inventory.yml (groups `lab` and `obiam`, group_vars/ linked to inventory/group_vars/).
# Afterwards: curl -k https://<LB address printed at the end>/session, and `./bin/obiam-run.js lab down [--name LAB]`.
set -euo pipefail
cd "$(dirname "$0")/.."
name=default
if [ "${1:-}" = "--name" ]; then
  [ $# -ge 2 ] || { echo "lab-site.sh: --name needs a lab name" >&2; exit 5; }
  name=$2
  shift 2
fi
run() { printf '\n$ %s\n' "$*"; "$@"; }
run ./bin/obiam-run.js lab up --name "$name"
run bash scripts/lab-artifacts.sh
# git checks files out 0644; obiam-run warns about a vault password file others can read.
chmod 600 inventory/lab-vault-pass.txt
if [ "$name" = default ]; then
  inv=(-i inventory/lab.yml)
else
  inv=(-i ".lab/$name/inventory.yml")
fi
run ./bin/obiam-run.js playbooks/site.yml "${inv[@]}" --vault-password-file inventory/lab-vault-pass.txt "$@"
# The load balancer of this lab (its address differs from lab to lab).
lb=$(./bin/obiam-run.js inventory "${inv[@]}" --host lb1 | sed -n 's/^ *"ansible_host": "\(.*\)",*$/\1/p')
printf '\nThe cluster answers through the load balancer: curl -k https://%s/session\n' "$lb"
