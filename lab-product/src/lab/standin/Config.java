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
  final Map<String, String> datasources = new LinkedHashMap<>();
  String ldapUrl;
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
    for (Map.Entry<String, String> d : datasources.entrySet()) {
      if (!d.getValue().startsWith("jdbc:")) throw new Invalid("datasource " + d.getKey() + ": invalid url " + d.getValue());
    }
    if (ldapUrl != null && !ldapUrl.matches("ldaps?://[^/:]+(:\\d+)?/?.*")) throw new Invalid("user store: invalid connection_url " + ldapUrl);
  }

  // ---- OB IAM 2.0: deployment.toml, by the product's own key names

  /** Datasources by their tables: name -> table path. */
  private static final String[][] TOML_DATASOURCES = {
    {"database.identity_db", "database.identity_db"},
    {"database.shared_db", "database.shared_db"},
    {"database.apim_db", "database.apim_db"},
    {"database.config", "database.config"},
    {"open_banking_database.config", "open_banking_database.config"},
  };

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
      datasource(d[0], Toml.str(ds, "url"), ds, file);
    }
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
        datasource(id, Toml.str(ds, "url"), ds, file);
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

    Map<String, Object> hc = Toml.table(root, "carbon_health_check");
    Object en = hc.get("enable");
    healthCheck = !(en instanceof Boolean) || (Boolean) en;
  }

  /** A datasource: its URL must be JDBC; network ones are checked at start (embedded H2 files are not). */
  private void datasource(String name, String url, Map<String, Object> t, String file) throws Invalid {
    if (url == null) throw new Invalid(file + ": " + name + ".url is missing");
    if (Toml.str(t, "driver") == null) throw new Invalid(file + ": " + name + ".driver is missing");
    if (!url.startsWith("jdbc:")) throw new Invalid("datasource " + name + ": invalid url " + url);
    if (!url.startsWith("jdbc:h2:")) datasources.put(name, url);
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
        if (name != null && url != null && !url.startsWith("jdbc:h2:")) datasources.put(name, url);
      }
    }
    Element um = xml(new File(conf, "user-mgt.xml")).getDocumentElement();
    NodeList usm = um.getElementsByTagName("UserStoreManager");
    for (int i = 0; i < usm.getLength(); i++) {
      Element u = (Element) usm.item(i);
      if (u.getAttribute("class").contains("LDAP")) {
        NodeList props = u.getElementsByTagName("Property");
        for (int j = 0; j < props.getLength(); j++) {
          Element p = (Element) props.item(j);
          if ("ConnectionURL".equals(p.getAttribute("name"))) ldapUrl = p.getTextContent().trim();
        }
      }
    }
    File cat = new File(conf, "tomcat/catalina-server.xml");
    if (cat.isFile()) {
      NodeList conns = xml(cat).getDocumentElement().getElementsByTagName("Connector");
      for (int i = 0; i < conns.getLength(); i++) {
        Node n = conns.item(i);
        Element e = (Element) n;
        if ("9443".equals(e.getAttribute("port")) && !e.getAttribute("proxyPort").isEmpty()) proxyPort = Integer.parseInt(e.getAttribute("proxyPort"));
      }
    }
  }
}
