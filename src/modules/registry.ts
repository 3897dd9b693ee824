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

const MODULES: ModuleDef<any>[] = [
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
