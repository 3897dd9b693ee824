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
  /** Empty namespaces and links of a killed run with this lab's name, removed before starting. */
  reclaimed?: string[];
}
