// Every module by its name and aliases. New modules are added to MODULES below.
import type { ModuleDef } from './types.js';
import { debugModule } from './debug.js';
import { setupModule } from './setup.js';
import { groupModule } from './group.js';
import { mountModule } from './mount.js';
import { packageModule } from './package.js';
import { pamLimitsModule } from './pam-limits.js';
import { serviceModule, systemdModule } from './service.js';
import { sysctlModule } from './sysctl.js';
import { userModule } from './user.js';
import { uriModule } from './uri.js';
import { waitForModule } from './wait-for.js';
import { commandModule } from './command.js';
import { shellModule } from './shell.js';
import { setFactModule } from './set-fact.js';
import { assertModule } from './assert.js';
import { failModule } from './fail.js';
import { pauseModule } from './pause.js';
import { httpProbeModule } from './http-probe.js';
import { copyModule } from './copy.js';
import { templateModule } from './template.js';
import { fileModule } from './file.js';
import { lineinfileModule } from './lineinfile.js';
import { blockinfileModule } from './blockinfile.js';
import { statModule } from './stat.js';
import { unarchiveModule } from './unarchive.js';
import { xmlModule } from './xml.js';
import { tomlModule } from './toml.js';
import { pingModule } from './ping.js';
import { tempfileModule } from './tempfile.js';
import { includeVarsModule } from './include-vars.js';
import { addHostModule } from './add-host.js';
import { groupByModule } from './group-by.js';

const MODULES: ModuleDef<any>[] = [
  copyModule,
  templateModule,
  fileModule,
  lineinfileModule,
  blockinfileModule,
  xmlModule,
  tomlModule,
  statModule,
  unarchiveModule,
  debugModule,
  setupModule,
  serviceModule,
  systemdModule,
  sysctlModule,
  pamLimitsModule,
  mountModule,
  userModule,
  groupModule,
  packageModule,
  uriModule,
  waitForModule,
  commandModule,
  shellModule,
  setFactModule,
  assertModule,
  failModule,
  pauseModule,
  httpProbeModule,
  pingModule,
  tempfileModule,
  includeVarsModule,
  addHostModule,
  groupByModule,
];

const byName = new Map<string, ModuleDef<any>>();
for (const m of MODULES) {
  byName.set(m.name, m);
  for (const a of m.aliases ?? []) byName.set(a, m);
}

export function getModule(name: string): ModuleDef<any> | undefined {
  return byName.get(name);
}

/** Every accepted module name, aliases included (for "did you mean"). */
export function moduleNames(): string[] {
  return [...byName.keys()];
}

export function allModules(): ModuleDef<any>[] {
  return [...MODULES];
}

/** The module that gathers facts (what `gather_facts: true` runs), if one is registered. */
export function factsModule(): ModuleDef<any> | undefined {
  return MODULES.find((m) => m.gathersFacts);
}
