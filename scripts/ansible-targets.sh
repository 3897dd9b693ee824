#!/usr/bin/env bash
# Runs integration targets from a copy of ansible-core's sources with obiam-run in place of
# ansible-playbook, and prints pass/fail per target. Nothing of Ansible's is kept in this repository:
# give the path of a checked-out ansible source tree (e.g. the stable-2.14 branch).
#
#   scripts/ansible-targets.sh /tmp/ansible-2.14 [target ...]     # obiam-run
#   REFERENCE=1 scripts/ansible-targets.sh /tmp/ansible-2.14 ...   # ansible-playbook itself
#
# A target with runme.sh runs it (with `ansible-playbook` on PATH being obiam-run); a role-only target
# (tasks/main.yml) runs a play `hosts: testhost, roles: [target]`. Both on the local connection, in a
# scratch copy of the target, 300 s at most each.
set -uo pipefail
src=${1:?usage: scripts/ansible-targets.sh ANSIBLE_SOURCE_TREE [target ...]}
shift
targets_dir="$src/test/integration/targets"
[ -d "$targets_dir" ] || { echo "no $targets_dir: give the root of an ansible source tree" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
default_targets="blocks handlers include_import lookup_fileglob lookup_first_found lookup_varnames lookup_template templating filter_core test_core set_fact include_vars tempfile ping add_host group_by loops assert debug var_precedence var_blending var_templating unsafe_writes template_jinja2_non_native jinja2_native_types special_vars tags when"
[ $# -gt 0 ] || set -- $default_targets
work=$(mktemp -d /tmp/obr-targets-XXXXXX)
trap 'rm -rf "$work"' EXIT

shim="$work/bin"
mkdir -p "$shim"
if [ -z "${REFERENCE:-}" ]; then
  printf '#!/bin/sh\nexec node %q/bin/obiam-run.js "$@"\n' "$repo" >"$shim/ansible-playbook"
  chmod +x "$shim/ansible-playbook"
fi
# ansible-test writes an inventory two levels above each target (runme.sh scripts say -i ../../inventory)
# and puts the targets directory on the roles path (setup_* roles); the same here, in YAML.
mkdir -p "$work/targets"
cp -r "$targets_dir/." "$work/targets/"
export ANSIBLE_ROLES_PATH="$work/targets"
cat >"$work/inventory.yml" <<'INV'
all:
  hosts:
    testhost:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
    localhost:
      ansible_connection: local
      ansible_python_interpreter: /usr/bin/python3
INV
cp "$work/inventory.yml" "$work/inventory"
# ansible-test gives every target an output_dir (OUTPUT_DIR for runme.sh) to write into.
mkdir -p "$work/output"
export OUTPUT_DIR="$work/output"

pass=0
fail=0
for t in "$@"; do
  [ -d "$targets_dir/$t" ] || { printf '%-32s missing\n' "$t"; fail=$((fail + 1)); continue; }
  dir="$work/targets/$t"
  log="$work/$t.log"
  if [ -f "$dir/runme.sh" ]; then
    (cd "$dir" && PATH="$shim:$PATH" HOME="$work/home" ANSIBLE_NOCOLOR=1 NO_COLOR=1 OBIAM_RUN_STATE_DIR="$work/state" \
      timeout 300 bash ./runme.sh -i "$work/inventory.yml" >"$log" 2>&1)
  elif [ -f "$dir/tasks/main.yml" ]; then
    printf -- '- hosts: testhost\n  gather_facts: true\n  roles: [%s]\n' "$t" >"$work/targets/$t.yml"
    (cd "$work/targets" && PATH="$shim:$PATH" HOME="$work/home" ANSIBLE_NOCOLOR=1 NO_COLOR=1 OBIAM_RUN_STATE_DIR="$work/state" \
      timeout 300 ansible-playbook "$t.yml" -i "$work/inventory.yml" -e "output_dir=$work/output" >"$log" 2>&1)
  else
    printf '%-32s no runme.sh or tasks/main.yml\n' "$t"; fail=$((fail + 1)); continue
  fi
  rc=$?
  if [ $rc -eq 0 ]; then
    printf '%-32s pass\n' "$t"; pass=$((pass + 1))
  else
    printf '%-32s FAIL (exit %s): %s\n' "$t" "$rc" "$(grep -m1 -E 'error E_|fatal:|ERROR' "$log" | cut -c1-160)"; fail=$((fail + 1))
  fi
done
printf '%s passed, %s failed\n' "$pass" "$fail"
