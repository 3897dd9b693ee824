// A running lab: real SSH hosts in network namespaces on one machine.

export interface LabHost {
  name: string; // inventory name, also the hostname inside the host
  ip: string; // address on the lab bridge
  port: number; // sshd port (22)
  role: 'node' | 'lb' | 'storage' | 'db' | 'ldap' | 'bastion';
  netns: string; // network namespace name (prefixed)
  pid: number; // PID 1 of the host (outer pid namespace)
  systemd: boolean;
  /** Root-namespace end of the host's veth pair (hostLinkDown sets it down). */
  link?: string;
  /** With `lab up --latency`: the relay address that reaches this host's sshd with the delay. */
  relay?: { ip: string; port: number; rttMs: number; jitterMs: number };
}

export interface LabInfo {
  name: string;
  prefix: string; // prefix of every namespace/bridge/link made for this lab
  subnet: string; // e.g. 10.231.7.0/24 (exists only inside the lab's namespaces)
  bridge: string;
  bridgeIp: string;
  hosts: LabHost[];
  /** Directory holding state, key, known_hosts and inventory for this lab. */
  stateDir: string;
  privateKeyFile: string;
  knownHostsFile: string;
  /** hosts.yml: hosts and connection only (ad hoc playbooks; tests add their own groups on top). */
  inventoryFile: string;
  /** inventory.yml: hosts.yml plus groups `lab` and the product's (`obiam` or `obkm`), ready for site.yml alone. */
  siteInventoryFile: string;
  /** The product group of siteInventoryFile. */
  product: 'obiam' | 'obkm';
  /** Non-root user with sudo (password required) on every host. */
  sudoUser: string;
  sudoPassword: string;
  /** Set when `lab up` found this lab already running with the same hosts and left it as it was. */
  alreadyUp?: boolean;
  /** The lab's real MariaDB and OpenLDAP (src/lab/services.ts), on its services host; absent without one. */
  services?: LabServices;
  /** Empty namespaces and links of a killed run with this lab's name, removed before starting. */
  reclaimed?: string[];
}

/** The lab's MariaDB: mariadbd in the services host's netns, its files under .lab/NAME/services/db/. */
export interface LabDb {
  name: string; // <prefix>-db
  host: string;
  ip: string;
  netns: string;
  port: number;
  /** The lab DBA account (all privileges, from anywhere in the lab); the password is generated per lab. */
  adminUser: string;
  adminPassword: string;
  dir: string;
  socket: string;
  config: string;
}

/** The lab's OpenLDAP: slapd (mdb) in the services host's netns, its files under .lab/NAME/services/ldap/. */
export interface LabLdap {
  name: string; // <prefix>-ldap
  host: string;
  ip: string;
  netns: string;
  port: number;
  baseDn: string;
  /** The directory's root DN; the password is generated per lab. */
  adminDn: string;
  adminPassword: string;
  dir: string;
  config: string;
}

export interface LabServices {
  db?: LabDb;
  ldap?: LabLdap;
}
