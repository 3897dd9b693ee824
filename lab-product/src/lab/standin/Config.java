package lab.standin;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The settings the lab stand-in acts on, read from the same files the real packs use:
 * deployment.toml for OB IAM 2.0, the XML files for OB KM 1.5.0. A missing or invalid setting
 * stops the start, as the real product would.
 */
final class Config {
  String profile; // obiam | obkm
  String hostname;
  int offset;
  boolean clustering;
  String localMemberHost;
  int localMemberPort = 4000;
  final List<String> members = new ArrayList<>();
  final Map<String, Backends.Ds> datasources = new LinkedHashMap<>();
  String ldapUrl;
  Backends.Ldap ldap;
  // The key store the HTTPS transport serves with (OB IAM [keystore.primary]; OB KM the 9443 connector).
  File httpsKeystore;
  String httpsKeystoreType = "JKS";
  String httpsKeystorePassword;
  String httpsKeyPassword;
  int proxyPort;
  boolean healthCheck = true;
  String adminUsername;
  String userStoreType;
  String keystore;
  String truststore;

  static final class Invalid extends Exception {
    Invalid(String m) {
      super(m);
    }
  }

  static Config load(File home, String profile) throws Invalid {
    Config c = new Config();
    c.profile = profile;
    try {
      if (profile.equals("obiam")) {
        c.readToml(new File(home, "repository/conf/deployment.toml"));
        // The key and trust stores are read at start: a name that is not in resources/security stops it.
        for (String[] k : new String[][] {{"keystore.primary.name", c.keystore}, {"truststore.file_name", c.truststore}}) {
          if (k[1] != null && !new File(home, "repository/resources/security/" + k[1]).isFile()) {
            throw new Invalid("deployment.toml: " + k[0] + " " + k[1] + " is not in repository/resources/security");
          }
        }
      }
      else c.readXml(new File(home, "repository/conf"));
    } catch (Invalid e) {
      throw e;
    } catch (Exception e) {
      throw new Invalid("cannot read configuration: " + e);
    }
    c.validate();
    return c;
  }

  private void validate() throws Invalid {
    if (hostname == null || hostname.isEmpty()) throw new Invalid("server hostname is not set");
    if (offset < 0 || offset > 1000) throw new Invalid("invalid port offset " + offset);
    if (clustering) {
      if (localMemberHost == null || localMemberHost.isEmpty()) throw new Invalid("clustering: local member host is not set");
      if (members.isEmpty()) throw new Invalid("clustering: wka scheme without members");
      String self = localMemberHost + ":" + localMemberPort;
      if (!members.contains(self)) throw new Invalid("clustering: this node (" + self + ") is not in the members list " + members);
    }
    for (Backends.Ds d : datasources.values()) {
      if (!d.url.startsWith("jdbc:")) throw new Invalid("datasource " + d.name + ": invalid url " + d.url);
    }
    if (ldapUrl != null && !ldapUrl.matches("ldaps?://[^/:]+(:\\d+)?/?.*")) throw new Invalid("user store: invalid connection_url " + ldapUrl);
  }

  // ---- OB IAM 2.0: deployment.toml, by the product's own key names

  /** Datasources by their tables: name -> table path. */
  private static final String[][] TOML_DATASOURCES = {
    {"database.identity_db", "database.identity_db", "identity"},
    {"database.shared_db", "database.shared_db", "shared"},
    {"database.apim_db", "database.apim_db", "apim"},
    {"database.config", "database.config", "config"},
    {"open_banking_database.config", "open_banking_database.config", "open_banking"},
  };

  /** OB KM datasource names -> the pack's dbscripts/ key. */
  private static final Map<String, String> KM_KEYS = new LinkedHashMap<>();
  static {
    KM_KEYS.put("WSO2AM_DB", "apim");
    KM_KEYS.put("WSO2CONFIG_DB", "config");
    KM_KEYS.put("WSO2REG_DB", "shared");
    KM_KEYS.put("WSO2UM_DB", "um");
    KM_KEYS.put("WSO2_OPEN_BANKING_DB", "open_banking");
  }

  /** LDAP properties the user store manager cannot work without (user_store.properties.*). */
  private static final String[] LDAP_PROPERTIES = {
    "UserSearchBase", "UserEntryObjectClass", "UserNameAttribute", "UserNameSearchFilter", "UserNameListFilter",
    "GroupSearchBase", "GroupEntryObjectClass", "GroupNameAttribute", "MembershipAttribute", "ReadGroups",
  };

  private void readToml(File f) throws Exception {
    if (!f.isFile()) throw new Invalid("missing " + f);
    Map<String, Object> root = Toml.parse(new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8), f.getName());
    String file = f.getName();
    // The pack's spec decides which vendor settings must be there.
    Object spec = Toml.at(root, "open_banking.deployed_spec");
    if (spec == null) throw new Invalid(file + ": open_banking.deployed_spec is missing");
    String[] required = Spec.required(String.valueOf(spec).toLowerCase(java.util.Locale.ROOT));
    if (required == null) throw new Invalid(file + ": open_banking.deployed_spec " + spec + " is not a spec this pack knows (UK, Berlin, AU)");
    for (String r : required) requireSetting(root, r, file, String.valueOf(spec));

    Map<String, Object> server = Toml.table(root, "server");
    hostname = Toml.str(server, "hostname");
    offset = Toml.integer(server, "offset", 0);
    Map<String, Object> cl = Toml.table(root, "clustering");
    String scheme = Toml.str(cl, "membership_scheme");
    if (scheme != null) {
      if (!scheme.equals("wka")) throw new Invalid("clustering: unsupported membership_scheme " + scheme);
      clustering = true;
      localMemberHost = Toml.str(cl, "local_member_host");
      localMemberPort = Toml.integer(cl, "local_member_port", 4000);
      Object m = cl.get("members");
      if (m instanceof List) for (Object o : (List<?>) m) members.add(String.valueOf(o));
    }
    Map<String, Object> https = Toml.table(Toml.table(Toml.table(root, "transport"), "https"), "properties");
    proxyPort = Toml.integer(https, "proxyPort", 0);
    for (String[] d : TOML_DATASOURCES) {
      Object t = Toml.at(root, d[1]);
      if (!(t instanceof Map)) continue;
      @SuppressWarnings("unchecked")
      Map<String, Object> ds = (Map<String, Object>) t;
      datasource(d[0], d[2], Toml.str(ds, "url"), ds, file, "[" + d[1] + "]");
    }
    String realmDs = Toml.str(Toml.table(root, "realm_manager"), "data_source");
    Set<String> ids = new HashSet<>();
    Object dsl = root.get("datasource");
    if (dsl instanceof List) {
      for (Object o : (List<?>) dsl) {
        if (!(o instanceof Map)) continue;
        @SuppressWarnings("unchecked")
        Map<String, Object> ds = (Map<String, Object>) o;
        String id = Toml.str(ds, "id");
        if (id == null) throw new Invalid(file + ": a [[datasource]] has no id");
        ids.add(id);
        datasource(id, id.equals(realmDs) || id.equals("WSO2UM_DB") ? "um" : null, Toml.str(ds, "url"), ds, file, "[[datasource]] id=" + id);
      }
    }
    String realm = Toml.str(Toml.table(root, "realm_manager"), "data_source");
    if (realm == null) throw new Invalid(file + ": realm_manager.data_source is missing");
    if (!ids.contains(realm)) throw new Invalid(file + ": realm_manager.data_source names " + realm + ", but no [[datasource]] has that id (ids: " + ids + ")");

    Map<String, Object> admin = Toml.table(root, "super_admin");
    for (String k : new String[] {"username", "password"}) {
      String v = Toml.str(admin, k);
      if (v == null || v.isEmpty()) throw new Invalid(file + ": super_admin." + k + " is not set");
    }
    adminUsername = Toml.str(admin, "username");

    Map<String, Object> us = Toml.table(root, "user_store");
    String type = Toml.str(us, "type");
    if (type == null) throw new Invalid(file + ": user_store.type is missing");
    userStoreType = type;
    if (type.contains("ldap")) {
      for (String k : new String[] {"connection_url", "connection_name", "connection_password", "base_dn"}) {
        if (Toml.str(us, k) == null) throw new Invalid(file + ": user_store." + k + " is missing for the LDAP user store " + type);
      }
      ldapUrl = Toml.str(us, "connection_url");
      Map<String, Object> props = Toml.table(us, "properties");
      ldap = new Backends.Ldap();
      ldap.where = file + " [user_store]";
      ldap.url = ldapUrl;
      ldap.bindDn = Toml.str(us, "connection_name");
      ldap.bindPassword = Toml.str(us, "connection_password");
      ldap.userSearchBase = Toml.str(props, "UserSearchBase");
      ldap.userListFilter = Toml.str(props, "UserNameListFilter");
      for (String k : LDAP_PROPERTIES) {
        if (Toml.str(props, k) == null) throw new Invalid(file + ": user_store.properties." + k + " is missing for the LDAP user store " + type);
      }
      if ("true".equals(Toml.str(props, "ReadGroups"))) {
        for (String k : new String[] {"GroupNameListFilter", "GroupNameSearchFilter"}) {
          if (Toml.str(props, k) == null) throw new Invalid(file + ": user_store.properties." + k + " is missing while ReadGroups is true");
        }
      }
    }

    Map<String, Object> ks = Toml.table(Toml.table(root, "keystore"), "primary");
    keystore = Toml.str(ks, "name");
    if (keystore == null) throw new Invalid(file + ": keystore.primary.name is missing");
    Map<String, Object> ts = Toml.table(root, "truststore");
    truststore = Toml.str(ts, "file_name");
    File sec = new File(f.getParentFile().getParentFile(), "resources/security");
    httpsKeystore = new File(sec, keystore);
    String kt = Toml.str(ks, "type");
    if (kt != null) httpsKeystoreType = kt;
    httpsKeystorePassword = Toml.str(ks, "password");
    if (httpsKeystorePassword == null) throw new Invalid(file + ": keystore.primary.password is missing");
    httpsKeyPassword = Toml.str(ks, "key_password");
    if (httpsKeyPassword == null) httpsKeyPassword = httpsKeystorePassword;
    String alias = Toml.str(ks, "alias");
    if (httpsKeystore.isFile()) {
      java.security.KeyStore store = openStore(httpsKeystore, httpsKeystoreType, httpsKeystorePassword, file + ": keystore.primary.password");
      if (alias != null) {
        try {
          if (store.getKey(alias, httpsKeyPassword.toCharArray()) == null) throw new Invalid(file + ": keystore.primary.alias " + alias + ": no private key of that alias in " + keystore);
        } catch (Invalid e) {
          throw e;
        } catch (Exception e) {
          throw new Invalid(file + ": keystore.primary.key_password does not open the key " + alias + " in " + keystore + ": " + e.getMessage());
        }
      }
    }
    String tp = Toml.str(ts, "password");
    if (truststore != null && tp != null && new File(sec, truststore).isFile()) {
      String tt = Toml.str(ts, "type");
      openStore(new File(sec, truststore), tt == null ? "JKS" : tt, tp, file + ": truststore.password");
    }

    Map<String, Object> hc = Toml.table(root, "carbon_health_check");
    Object en = hc.get("enable");
    healthCheck = !(en instanceof Boolean) || (Boolean) en;
  }

  /** A datasource: its URL must be JDBC; network ones are checked at start (embedded H2 files are not). */
  private void datasource(String name, String key, String url, Map<String, Object> t, String file, String table) throws Invalid {
    if (url == null) throw new Invalid(file + ": " + name + ".url is missing");
    if (Toml.str(t, "driver") == null) throw new Invalid(file + ": " + name + ".driver is missing");
    if (!url.startsWith("jdbc:")) throw new Invalid("datasource " + name + ": invalid url " + url);
    if (url.startsWith("jdbc:h2:")) return;
    Backends.Ds ds = new Backends.Ds();
    ds.name = name;
    ds.key = key;
    ds.where = file + " " + table;
    ds.url = url;
    ds.username = Toml.str(t, "username");
    ds.password = Toml.str(t, "password");
    ds.driver = Toml.str(t, "driver");
    datasources.put(name, ds);
  }

  /** Opens a key store with its password, or refuses the start naming the setting. */
  static java.security.KeyStore openStore(File f, String type, String pass, String setting) throws Invalid {
    try (java.io.InputStream in = new java.io.FileInputStream(f)) {
      java.security.KeyStore ks = java.security.KeyStore.getInstance(type);
      ks.load(in, pass.toCharArray());
      return ks;
    } catch (Exception e) {
      throw new Invalid(setting + " does not open the key store " + f + " (" + type + "): " + e.getMessage());
    }
  }

  private static void requireSetting(Map<String, Object> root, String r, String file, String spec) throws Invalid {
    if (!r.startsWith("[[")) {
      if (Toml.at(root, r) == null) throw new Invalid(file + ": " + r + " is missing (the " + spec + " spec's file has it)");
      return;
    }
    String[] f = r.split(" ");
    String path = f[0].substring(2, f[0].length() - 2);
    int count = Integer.parseInt(f[1]);
    Object a = Toml.at(root, path);
    if (!(a instanceof List) || ((List<?>) a).size() < count) {
      throw new Invalid(file + ": [[" + path + "]] has " + (a instanceof List ? ((List<?>) a).size() : 0) + " element(s), the " + spec + " spec's file has " + count);
    }
    int n = 0;
    for (Object e : (List<?>) a) {
      n++;
      for (String k : f[2].split(",")) {
        if (!(e instanceof Map) || !((Map<?, ?>) e).containsKey(k)) throw new Invalid(file + ": [[" + path + "]] element " + n + " has no " + k);
      }
    }
  }

  // ---- OB KM 1.5.0: the XML files

  private static Document xml(File f) throws Exception {
    if (!f.isFile()) throw new Invalid("missing " + f);
    DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
    dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    try {
      return dbf.newDocumentBuilder().parse(f);
    } catch (org.xml.sax.SAXException e) {
      throw new Invalid(f.getName() + " is not well-formed XML: " + e.getMessage());
    }
  }

  private static String text(Element parent, String tag) {
    NodeList l = parent.getElementsByTagName(tag);
    return l.getLength() == 0 ? null : l.item(0).getTextContent().trim();
  }

  private void readXml(File conf) throws Exception {
    KmConfig.check(conf.getParentFile().getParentFile());
    Element carbon = xml(new File(conf, "carbon.xml")).getDocumentElement();
    hostname = text(carbon, "HostName");
    String off = text(carbon, "Offset");
    try {
      offset = off == null ? 0 : Integer.parseInt(off);
    } catch (NumberFormatException e) {
      throw new Invalid("carbon.xml: Offset is not a number: " + off);
    }
    Element axis2 = xml(new File(conf, "axis2/axis2.xml")).getDocumentElement();
    NodeList cls = axis2.getElementsByTagName("clustering");
    if (cls.getLength() > 0) {
      Element cl = (Element) cls.item(0);
      if ("true".equals(cl.getAttribute("enable"))) {
        clustering = true;
        Map<String, String> params = new LinkedHashMap<>();
        NodeList ps = cl.getElementsByTagName("parameter");
        for (int i = 0; i < ps.getLength(); i++) {
          Element p = (Element) ps.item(i);
          if (p.getParentNode() == cl) params.put(p.getAttribute("name"), p.getTextContent().trim());
        }
        if (!"wka".equals(params.get("membershipScheme"))) throw new Invalid("axis2.xml: membershipScheme must be wka, is " + params.get("membershipScheme"));
        localMemberHost = params.get("localMemberHost");
        localMemberPort = Integer.parseInt(params.getOrDefault("localMemberPort", "4000"));
        NodeList ms = cl.getElementsByTagName("member");
        for (int i = 0; i < ms.getLength(); i++) {
          Element m = (Element) ms.item(i);
          members.add(text(m, "hostName") + ":" + text(m, "port"));
        }
      }
    }
    for (String file : new String[] {"datasources/master-datasources.xml", "datasources/open-banking-datasources.xml"}) {
      File f = new File(conf, file);
      if (!f.isFile()) continue;
      NodeList dss = xml(f).getDocumentElement().getElementsByTagName("datasource");
      for (int i = 0; i < dss.getLength(); i++) {
        Element ds = (Element) dss.item(i);
        String name = text(ds, "name");
        String url = text(ds, "url");
        // The local H2 carbon DB is a file, not a network endpoint.
        if (name != null && url != null && !url.startsWith("jdbc:h2:")) {
          Backends.Ds d = new Backends.Ds();
          d.name = name;
          d.key = KM_KEYS.get(name);
          d.where = file + " datasource " + name;
          d.url = url;
          d.username = text(ds, "username");
          d.password = text(ds, "password");
          d.driver = text(ds, "driverClassName");
          if (d.driver == null || d.driver.isEmpty()) throw new Invalid(file + ": datasource " + name + " has no driverClassName");
          datasources.put(name, d);
        }
      }
    }
    Element um = xml(new File(conf, "user-mgt.xml")).getDocumentElement();
    NodeList usm = um.getElementsByTagName("UserStoreManager");
    for (int i = 0; i < usm.getLength(); i++) {
      Element u = (Element) usm.item(i);
      if (u.getAttribute("class").contains("LDAP") && ldap == null) {
        Map<String, String> pv = new LinkedHashMap<>();
        NodeList props = u.getElementsByTagName("Property");
        for (int j = 0; j < props.getLength(); j++) {
          Element p = (Element) props.item(j);
          pv.put(p.getAttribute("name"), p.getTextContent().trim());
        }
        ldapUrl = pv.get("ConnectionURL");
        ldap = new Backends.Ldap();
        ldap.where = "user-mgt.xml UserStoreManager " + u.getAttribute("class");
        ldap.url = ldapUrl;
        ldap.bindDn = pv.get("ConnectionName");
        ldap.bindPassword = pv.get("ConnectionPassword");
        ldap.userSearchBase = pv.get("UserSearchBase");
        ldap.userListFilter = pv.get("UserNameListFilter");
      }
    }
    File cat = new File(conf, "tomcat/catalina-server.xml");
    if (cat.isFile()) {
      NodeList conns = xml(cat).getDocumentElement().getElementsByTagName("Connector");
      for (int i = 0; i < conns.getLength(); i++) {
        Node n = conns.item(i);
        Element e = (Element) n;
        if (!"9443".equals(e.getAttribute("port"))) continue;
        if (!e.getAttribute("proxyPort").isEmpty()) proxyPort = Integer.parseInt(e.getAttribute("proxyPort"));
        // KmConfig has opened it with its password already.
        httpsKeystore = new File(e.getAttribute("keystoreFile").replace("${carbon.home}", conf.getParentFile().getParent()));
        if (!e.getAttribute("keystoreType").isEmpty()) httpsKeystoreType = e.getAttribute("keystoreType");
        httpsKeystorePassword = e.getAttribute("keystorePass");
        httpsKeyPassword = httpsKeystorePassword;
      }
    }
  }
}
