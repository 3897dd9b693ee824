package lab.standin;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  static final class Invalid extends Exception {
    Invalid(String m) {
      super(m);
    }
  }

  static Config load(File home, String profile) throws Invalid {
    Config c = new Config();
    c.profile = profile;
    try {
      if (profile.equals("obiam")) c.readToml(new File(home, "repository/conf/deployment.toml"));
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

  // ---- OB IAM 2.0: a TOML subset (tables, arrays of tables, strings, numbers, booleans, string arrays)

  private void readToml(File f) throws Exception {
    if (!f.isFile()) throw new Invalid("missing " + f);
    Map<String, Object> root = Toml.parse(new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8), f.getName());
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
    for (String db : new String[] {"shared_db", "apim_db", "config"}) {
      Map<String, Object> t = Toml.table(Toml.table(root, "database"), db);
      String url = Toml.str(t, "url");
      if (url != null) datasources.put(db, url);
    }
    Object dsl = root.get("datasource");
    if (dsl instanceof List) {
      for (Object o : (List<?>) dsl) {
        if (o instanceof Map) {
          @SuppressWarnings("unchecked")
          Map<String, Object> ds = (Map<String, Object>) o;
          String id = Toml.str(ds, "id");
          String url = Toml.str(ds, "url");
          if (id != null && url != null) datasources.put(id, url);
        }
      }
    }
    String ob = Toml.str(Toml.table(root, "open_banking_database"), "url");
    if (ob != null) datasources.put("open_banking_database", ob);
    Map<String, Object> us = Toml.table(root, "user_store");
    String type = Toml.str(us, "type");
    if (type != null && type.contains("ldap")) ldapUrl = Toml.str(us, "connection_url");
    Map<String, Object> hc = Toml.table(root, "carbon_health_check");
    Object en = hc.get("enable");
    healthCheck = !(en instanceof Boolean) || (Boolean) en;
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
