// The OB KM files as data, to prove a deployment against the pack it started from: every element,
// attribute, text and comment of every KM file (and every key of hazelcast.properties and the
// conf.json files) is flattened to a path -> value map; the settings the inventory owns must have
// the inventory's values, everything else the pack's; every changed line must carry an owned value.
// Used by the unit test of the configure role and by the lab e2e test.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Element, Node as XNode } from '@xmldom/xmldom';
import { diffLines } from 'diff';
import { parseXml } from '../../src/modules/xml.js';

export const KM_FILES = [
  'repository/conf/carbon.xml',
  'repository/conf/axis2/axis2.xml',
  'repository/conf/datasources/master-datasources.xml',
  'repository/conf/datasources/open-banking-datasources.xml',
  'repository/conf/user-mgt.xml',
  'repository/conf/registry.xml',
  'repository/conf/tomcat/catalina-server.xml',
  'repository/conf/identity/identity.xml',
  'repository/conf/identity/application-authentication.xml',
  'repository/conf/finance/open-banking.xml',
  'repository/conf/hazelcast.properties',
  'repository/deployment/server/jaggeryapps/consentmgt/configs/conf.json',
  'repository/deployment/server/jaggeryapps/ccportal/configs/conf.json',
] as const;

export type KmHome = Record<string, string>;

/** The KM files of a product home (or of the pack source directory), by path relative to it. */
export function readKmHome(home: string): KmHome {
  return Object.fromEntries(KM_FILES.map((f) => [f, readFileSync(path.join(home, f), 'utf8')]));
}

// ---- flattening ----------------------------------------------------------------------------------

const isEl = (n: XNode): n is Element => n.nodeType === 1;

/** A step that names an element the way the xpaths of the role do: by @name, @port, or a name/id child. */
function stepOf(el: Element): string {
  const tag = el.localName ?? el.nodeName;
  for (const a of ['name', 'port']) if (el.hasAttribute(a)) return `${tag}[@${a}='${el.getAttribute(a)}']`;
  for (const c of Array.from(el.childNodes).filter(isEl)) {
    const n = c.localName ?? c.nodeName;
    if ((n === 'name' || n === 'id') && !Array.from(c.childNodes).some(isEl)) return `${tag}[${n}='${(c.textContent ?? '').trim()}']`;
  }
  return tag;
}

export function flattenXml(text: string, file: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (el: Element, at: string): void => {
    for (const a of Array.from(el.attributes)) out.set(`${at}/@${a.name}`, a.value);
    const kids = Array.from(el.childNodes);
    const elems = kids.filter(isEl);
    if (!elems.length) {
      const t = kids.filter((k) => k.nodeType === 3 || k.nodeType === 4).map((k) => k.nodeValue ?? '').join('');
      if (t !== '' || !kids.length) out.set(`${at}/text()`, t);
    }
    const seen = new Map<string, number>();
    const steps = elems.map(stepOf);
    let comments = 0;
    for (const k of kids) {
      if (k.nodeType === 8) out.set(`${at}/comment()[${++comments}]`, k.nodeValue ?? '');
      if (!isEl(k)) continue;
      const s = steps[elems.indexOf(k)]!;
      const n = (seen.get(s) ?? 0) + 1;
      seen.set(s, n);
      visit(k, `${at}/${steps.filter((x) => x === s).length > 1 ? `${s}[${n}]` : s}`);
    }
  };
  const root = parseXml(text, file).documentElement!;
  visit(root, `/${root.localName ?? root.nodeName}`);
  return out;
}

function flattenProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  text.split('\n').forEach((l, i) => {
    const m = /^\s*([^#!\s][^=:\s]*)\s*[=:]\s*(.*)$/.exec(l);
    // A commented-out setting is `#key`: setting the key replaces that line.
    const c = /^#\s*([^\s=:]+)\s*[=:]\s*(.*)$/.exec(l);
    if (m) out.set(m[1]!, m[2]!);
    else if (c) out.set(`#${c[1]!}`, c[2]!);
    else if (l.trim()) out.set(`#line${i + 1}`, l);
  });
  return out;
}

function flattenJson(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (v: unknown, at: string): void => {
    if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, at ? `${at}.${k}` : k);
    else out.set(at, JSON.stringify(v));
  };
  visit(JSON.parse(text) as unknown, '');
  return out;
}

export function flatten(file: string, text: string): Map<string, string> {
  if (file.endsWith('.properties')) return flattenProperties(text);
  if (file.endsWith('.json')) return flattenJson(text);
  return flattenXml(text, file);
}

// ---- what the inventory owns ---------------------------------------------------------------------

export interface FileExpectation {
  /** Path -> the value the deployment must have written. */
  owned: Record<string, string>;
  /** Subtrees the inventory owns whole: every path under them must be in owned, and none else. */
  ownedTrees?: string[];
  /** Lines an owned subtree adds without a value of their own (e.g. `<member>`). */
  structural?: RegExp;
}

type V = Record<string, unknown>;

/** The expectations of every KM file, from the rendered inventory variables of one node. */
export function kmExpected(v: V): Record<string, FileExpectation> {
  const s = (x: unknown): string => (typeof x === 'boolean' ? String(x) : String(x));
  const pub = s(v.ob_public_hostname);
  const url = s(v.ob_km_public_url);
  const sec = '${carbon.home}/repository/resources/security';
  const ds = v.ob_datasources as Record<string, V>;
  const pool = v.ob_db_pool_options as V;
  const carbon: Record<string, string> = {
    '/Server/HostName/text()': pub,
    '/Server/MgtHostName/text()': pub,
    '/Server/Ports/Offset/text()': s(v.ob_port_offset),
  };
  for (const k of ['KeyStore', 'InternalKeyStore']) {
    Object.assign(carbon, {
      [`/Server/Security/${k}/Location/text()`]: `${sec}/${s(v.ob_keystore_name)}`,
      [`/Server/Security/${k}/Type/text()`]: s(v.ob_keystore_type),
      [`/Server/Security/${k}/Password/text()`]: s(v.ob_keystore_password),
      [`/Server/Security/${k}/KeyAlias/text()`]: s(v.ob_keystore_alias),
      [`/Server/Security/${k}/KeyPassword/text()`]: s(v.ob_keystore_key_password),
    });
  }
  Object.assign(carbon, {
    '/Server/Security/TrustStore/Location/text()': `${sec}/${s(v.ob_truststore_name)}`,
    '/Server/Security/TrustStore/Type/text()': s(v.ob_truststore_type),
    '/Server/Security/TrustStore/Password/text()': s(v.ob_truststore_password),
  });
  const svc = "/Server/Service[@name='Catalina']";
  const c443 = `${svc}/Connector[@port='9443']`;
  const catalina = {
    [`${c443}/@keystoreFile`]: `${sec}/${s(v.ob_keystore_name)}`,
    [`${c443}/@keystoreType`]: s(v.ob_keystore_type),
    [`${c443}/@keystorePass`]: s(v.ob_keystore_password),
    [`${c443}/@truststoreFile`]: `${sec}/${s(v.ob_truststore_name)}`,
    [`${c443}/@truststoreType`]: s(v.ob_truststore_type),
    [`${c443}/@truststorePass`]: s(v.ob_truststore_password),
    [`${c443}/@proxyPort`]: s(v.ob_proxy_port),
    [`${svc}/Connector[@port='9763']/@proxyPort`]: s(v.lb_http_port),
  };
  const cl = '/axisconfig/clustering';
  const nodes = Object.values(v.ob_node_addresses as Record<string, string>);
  const axis2: Record<string, string> = {
    [`${cl}/@enable`]: 'true',
    [`${cl}/parameter[@name='membershipScheme']/text()`]: 'wka',
    [`${cl}/parameter[@name='domain']/text()`]: s(v.ob_cluster_domain),
    [`${cl}/parameter[@name='localMemberHost']/text()`]: s(v.ob_node_address),
    [`${cl}/parameter[@name='localMemberPort']/text()`]: s(v.ob_cluster_port),
  };
  nodes.forEach((ip, i) => {
    const m = nodes.length > 1 ? `member[${i + 1}]` : 'member';
    axis2[`${cl}/members/${m}/hostName/text()`] = ip;
    axis2[`${cl}/members/${m}/port/text()`] = s(v.ob_cluster_port);
  });
  const dsFile = (names: [string, string][]): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [name, key] of names) {
      const d = ds[key]!;
      const at = `/datasources-configuration/datasources/datasource[name='${name}']/definition/configuration`;
      Object.assign(out, { [`${at}/url/text()`]: s(d.url), [`${at}/username/text()`]: s(d.username), [`${at}/password/text()`]: s(d.password), [`${at}/driverClassName/text()`]: s(d.driver) });
      for (const [k, x] of Object.entries(pool)) out[`${at}/${k}/text()`] = k === 'validationQuery' ? s(d.validation_query) : s(x);
    }
    return out;
  };
  const registry: Record<string, string> = {};
  for (const [id, key] of [['config', 'config'], ['gov', 'shared']] as const) {
    registry[`/wso2registry/remoteInstance[id='${id}']/@url`] = `${url}/registry`;
    registry[`/wso2registry/remoteInstance[id='${id}']/cacheId/text()`] = `${s(ds[key]!.username)}@${s(ds[key]!.url).split('?')[0]}`;
  }
  const realm = '/UserManager/Realm';
  const userMgt: FileExpectation = {
    owned: { [`${realm}/Configuration/AdminUser/UserName/text()`]: s(v.ob_admin_username), [`${realm}/Configuration/AdminUser/Password/text()`]: s(v.ob_admin_password) },
  };
  if (v.ob_user_store_kind === 'ldap') {
    const usm = `${realm}/UserStoreManager`;
    userMgt.owned[`${realm}/Configuration/AddAdmin/text()`] = 'false';
    userMgt.owned[`${usm}/@class`] = s(v.ob_ldap_user_store_class);
    userMgt.owned[`${usm}/Property[@name='TenantManager']/text()`] = 'org.wso2.carbon.user.core.tenant.CommonHybridLDAPTenantManager';
    for (const [k, x] of Object.entries(v.ob_ldap_properties as V)) userMgt.owned[`${usm}/Property[@name='${k}']/text()`] = s(x);
    userMgt.owned[`${usm}/Property[@name='ConnectionPassword']/text()`] = s(v.ob_ldap_bind_password);
    userMgt.ownedTrees = [`${usm}/`];
    userMgt.structural = /^\s*<Property name="[^"]+">/;
  }
  const strip = (xp: string, p: string): string => xp.replace(new RegExp(`${p}:`, 'g'), '');
  const identity: Record<string, string> = { '/Server/SSOService/EntityId/text()': pub };
  for (const e of v.ob_km_identity_endpoints as V[]) identity[`/Server/${strip(s(e.xpath), 'c')}/text()`] = `${url}${s(e.path)}`;
  const auth: Record<string, string> = {};
  for (const e of v.ob_km_authentication_endpoints as V[]) auth[`/ApplicationAuthentication/${strip(s(e.xpath), 'a')}/text()`] = `${url}${s(e.path)}`;
  const apim = s(v.ob_km_apim_url);
  const gw = s(v.ob_km_apim_gateway_url);
  const ob = {
    '/Server/APIM/ServerURL/text()': apim,
    '/Server/APIM/GatewayURL/text()': gw,
    '/Server/APIM/TokenEndpoint/text()': `${gw}/token`,
    '/Server/APIM/StoreHostName/text()': `${apim}/store/`,
    '/Server/KeyManager/ServerURL/text()': url,
    '/Server/KeyManager/AuthenticationEndpoint/text()': `${url}/authenticationendpoint`,
    '/Server/KeyManager/ConsentManagementEndpoint/text()': `${url}/consentmgt`,
    '/Server/DataPublishing/ServerURL/text()': `{${s(v.ob_km_analytics_url)}}`,
    '/Server/DataPublishing/AuthURL/text()': `{${s(v.ob_km_analytics_auth_url)}}`,
  };
  const json = (app: string): Record<string, string> =>
    Object.fromEntries((v.ob_km_conf_json as V[]).filter((e) => e.app === app).map((e) => [s(e.key), JSON.stringify(s(e.value))]));
  const hz = Object.fromEntries(Object.entries(v.ob_hazelcast_properties as V).map(([k, x]) => [k, s(x)]));
  return {
    'repository/conf/carbon.xml': { owned: carbon },
    'repository/conf/axis2/axis2.xml': { owned: axis2, ownedTrees: [`${cl}/members/`], structural: /^\s*<\/?member>\s*$/ },
    'repository/conf/datasources/master-datasources.xml': { owned: dsFile([['WSO2AM_DB', 'apim'], ['WSO2CONFIG_DB', 'config'], ['WSO2REG_DB', 'shared'], ['WSO2UM_DB', 'um']]) },
    'repository/conf/datasources/open-banking-datasources.xml': { owned: dsFile([['WSO2_OPEN_BANKING_DB', 'open_banking']]) },
    'repository/conf/user-mgt.xml': userMgt,
    'repository/conf/registry.xml': { owned: registry },
    'repository/conf/tomcat/catalina-server.xml': { owned: catalina },
    'repository/conf/identity/identity.xml': { owned: identity },
    'repository/conf/identity/application-authentication.xml': { owned: auth },
    'repository/conf/finance/open-banking.xml': { owned: ob },
    'repository/conf/hazelcast.properties': { owned: hz },
    'repository/deployment/server/jaggeryapps/consentmgt/configs/conf.json': { owned: json('consentmgt') },
    'repository/deployment/server/jaggeryapps/ccportal/configs/conf.json': { owned: json('ccportal') },
  };
}

const xmlEsc = (x: string): string => x.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Problems of a deployed home against the pack it came from (empty = as it must be): an owned
 * setting without the inventory's value, any other setting not as the pack has it, a file that
 * does not parse, a changed line that carries no owned value.
 */
export function compareKmHome(before: KmHome, after: KmHome, expected: Record<string, FileExpectation>): string[] {
  const problems: string[] = [];
  for (const file of KM_FILES) {
    const exp = expected[file] ?? { owned: {} };
    let a: Map<string, string>;
    let b: Map<string, string>;
    try {
      a = flatten(file, before[file]!);
      b = flatten(file, after[file]!);
    } catch (e) {
      problems.push(`${file}: does not parse: ${(e as Error).message}`);
      continue;
    }
    const inTree = (k: string): boolean => (exp.ownedTrees ?? []).some((t) => k.startsWith(t));
    for (const [k, want] of Object.entries(exp.owned)) if (b.get(k) !== want) problems.push(`${file}: ${k} is ${JSON.stringify(b.get(k))}, the inventory says ${JSON.stringify(want)}`);
    for (const k of new Set([...a.keys(), ...b.keys()])) {
      if (k in exp.owned || (k.startsWith('#') && k.slice(1) in exp.owned)) continue;
      if (inTree(k)) {
        // The name attribute of an owned Property is part of its path.
        if (k.endsWith('/@name') && `${k.slice(0, -'/@name'.length)}/text()` in exp.owned) continue;
        if (b.has(k)) problems.push(`${file}: ${k} = ${JSON.stringify(b.get(k))} is in an owned subtree but not the inventory's`);
        continue;
      }
      if (a.get(k) !== b.get(k)) problems.push(`${file}: ${k} was ${JSON.stringify(a.get(k))} in the pack, is ${JSON.stringify(b.get(k))}`);
    }
    // Byte level: lines outside the diff are identical by definition; every added line holds an owned value.
    const values = Object.values(exp.owned).flatMap((x) => [x, xmlEsc(x)]).filter((x) => x !== '');
    for (const part of diffLines(before[file]!, after[file]!)) {
      if (!part.added) continue;
      for (const line of part.value.split('\n').filter((l) => l !== '')) {
        if (values.some((x) => line.includes(x)) || exp.structural?.test(line)) continue;
        problems.push(`${file}: the changed line ${JSON.stringify(line)} carries no value the inventory owns`);
      }
    }
  }
  return problems;
}
