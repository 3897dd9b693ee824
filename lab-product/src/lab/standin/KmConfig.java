package lab.standin;

import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The cross-file checks of an OB KM 1.5.0 pack, done before the lab stand-in starts, as the real
 * kernel would fail on them: every KM file parses; every JNDI name that registry.xml,
 * user-mgt.xml, identity.xml and open-banking.xml reference is defined by a datasource; an LDAP
 * user store has its full property set; carbon.xml's key store and trust store and the 9443
 * connector's key store are set and open with their passwords. Each refusal names the file and
 * the setting.
 */
final class KmConfig {
  private KmConfig() {}

  /** The files a KM pack must have, relative to repository/conf. */
  static final String[] FILES = {
    "carbon.xml", "axis2/axis2.xml", "datasources/master-datasources.xml", "datasources/open-banking-datasources.xml",
    "user-mgt.xml", "registry.xml", "tomcat/catalina-server.xml", "identity/identity.xml",
    "identity/application-authentication.xml", "finance/open-banking.xml",
  };

  /** What a ReadWriteLDAPUserStoreManager cannot start without. */
  static final String[] LDAP_REQUIRED = {
    "ConnectionURL", "ConnectionName", "ConnectionPassword", "UserSearchBase", "UserEntryObjectClass",
    "UserNameAttribute", "UserNameSearchFilter", "UserNameListFilter", "GroupSearchBase",
    "GroupEntryObjectClass", "GroupNameAttribute", "MembershipAttribute",
  };

  static void check(File home) throws Config.Invalid {
    File conf = new File(home, "repository/conf");
    Map<String, Element> docs = new LinkedHashMap<>();
    for (String f : FILES) docs.put(f, parse(new File(conf, f), f));
    Set<String> jndi = new LinkedHashSet<>();
    for (String f : new String[] {"datasources/master-datasources.xml", "datasources/open-banking-datasources.xml"}) {
      for (Element ds : children(children(docs.get(f), "datasources"), "datasource")) {
        for (Element jc : children(ds, "jndiConfig")) {
          String n = text(first(jc, "name"));
          if (n != null) jndi.add(n);
        }
      }
    }
    Element registry = docs.get("registry.xml");
    for (Element db : children(registry, "dbConfig")) {
      String ds = text(first(db, "dataSource"));
      if (ds != null) need(jndi, ds, "registry.xml: dbConfig " + db.getAttribute("name") + " dataSource");
    }
    Element realm = first(docs.get("user-mgt.xml"), "Realm");
    if (realm == null) throw new Config.Invalid("user-mgt.xml: no Realm element");
    Element realmConf = first(realm, "Configuration");
    need(jndi, property(realmConf, "dataSource"), "user-mgt.xml: Realm Configuration property dataSource");
    for (Element usm : children(realm, "UserStoreManager")) {
      String cls = usm.getAttribute("class");
      if (cls.contains("LDAP") || cls.contains("ActiveDirectory")) ldap(usm, cls);
      String ds = property(usm, "dataSource");
      if (ds != null) need(jndi, ds, "user-mgt.xml: UserStoreManager property dataSource");
    }
    String idDs = text(first(first(docs.get("identity/identity.xml"), "JDBCPersistenceManager"), "DataSource"), "Name");
    if (idDs != null) need(jndi, idDs, "identity/identity.xml: JDBCPersistenceManager DataSource Name");
    String obDs = text(first(first(docs.get("finance/open-banking.xml"), "JDBCPersistenceManager"), "DataSource"), "Name");
    if (obDs != null) need(jndi, obDs, "finance/open-banking.xml: JDBCPersistenceManager DataSource Name");
    Element security = first(docs.get("carbon.xml"), "Security");
    if (security == null) throw new Config.Invalid("carbon.xml: no Security element");
    store(home, first(security, "KeyStore"), "carbon.xml: Security/KeyStore", true);
    store(home, first(security, "TrustStore"), "carbon.xml: Security/TrustStore", false);
    connector(home, docs.get("tomcat/catalina-server.xml"));
  }

  private static void need(Set<String> jndi, String name, String where) throws Config.Invalid {
    if (name == null || name.isEmpty()) throw new Config.Invalid(where + " is not set");
    if (!jndi.contains(name)) {
      throw new Config.Invalid(where + " names " + name + ", which no datasource in datasources/master-datasources.xml or datasources/open-banking-datasources.xml defines (JNDI names: " + jndi + ")");
    }
  }

  private static void ldap(Element usm, String cls) throws Config.Invalid {
    List<String> missing = new ArrayList<>();
    for (String p : LDAP_REQUIRED) if (isEmpty(property(usm, p))) missing.add(p);
    if (!"false".equalsIgnoreCase(property(usm, "ReadGroups"))) {
      for (String p : new String[] {"GroupNameListFilter", "GroupNameSearchFilter"}) if (isEmpty(property(usm, p))) missing.add(p);
    }
    if (!missing.isEmpty()) throw new Config.Invalid("user-mgt.xml: the user store " + cls + " lacks the properties " + missing + (missing.contains("GroupNameListFilter") || missing.contains("GroupNameSearchFilter") ? " (required while ReadGroups is true)" : ""));
  }

  private static void store(File home, Element ks, String where, boolean withKey) throws Config.Invalid {
    if (ks == null) throw new Config.Invalid(where + " is missing");
    String loc = text(first(ks, "Location"));
    String type = text(first(ks, "Type"));
    String pass = text(first(ks, "Password"));
    if (isEmpty(loc)) throw new Config.Invalid(where + "/Location is not set");
    if (isEmpty(type)) throw new Config.Invalid(where + "/Type is not set");
    if (pass == null) throw new Config.Invalid(where + "/Password is not set");
    KeyStore store = open(home, loc, type, pass, where);
    if (!withKey) return;
    String alias = text(first(ks, "KeyAlias"));
    String keyPass = text(first(ks, "KeyPassword"));
    if (isEmpty(alias)) throw new Config.Invalid(where + "/KeyAlias is not set");
    if (keyPass == null) throw new Config.Invalid(where + "/KeyPassword is not set");
    try {
      Key k = store.getKey(alias, keyPass.toCharArray());
      if (k == null) throw new Config.Invalid(where + "/KeyAlias " + alias + ": no private key of that alias in " + loc);
    } catch (Config.Invalid e) {
      throw e;
    } catch (Exception e) {
      throw new Config.Invalid(where + "/KeyPassword does not open the key " + alias + " in " + loc + ": " + e.getMessage());
    }
  }

  private static void connector(File home, Element server) throws Config.Invalid {
    NodeList conns = server.getElementsByTagName("Connector");
    for (int i = 0; i < conns.getLength(); i++) {
      Element c = (Element) conns.item(i);
      if (!"9443".equals(c.getAttribute("port"))) continue;
      String file = c.getAttribute("keystoreFile");
      String pass = c.getAttribute("keystorePass");
      String where = "tomcat/catalina-server.xml: Connector 9443";
      if (file.isEmpty()) throw new Config.Invalid(where + " keystoreFile is not set");
      if (!c.hasAttribute("keystorePass")) throw new Config.Invalid(where + " keystorePass is not set");
      String type = c.getAttribute("keystoreType");
      open(home, file, type.isEmpty() ? "JKS" : type, pass, where + " keystoreFile");
      return;
    }
    throw new Config.Invalid("tomcat/catalina-server.xml: no Connector on port 9443");
  }

  private static KeyStore open(File home, String location, String type, String pass, String where) throws Config.Invalid {
    File f = new File(location.replace("${carbon.home}", home.getPath()));
    if (!f.isFile()) throw new Config.Invalid(where + ": the key store " + f + " does not exist");
    try (InputStream in = new FileInputStream(f)) {
      KeyStore ks = KeyStore.getInstance(type);
      ks.load(in, pass.toCharArray());
      return ks;
    } catch (Exception e) {
      throw new Config.Invalid(where + ": the key store " + f + " (" + type + ") does not open with its password: " + e.getMessage());
    }
  }

  // ---- DOM helpers

  private static Element parse(File f, String rel) throws Config.Invalid {
    if (!f.isFile()) throw new Config.Invalid("missing repository/conf/" + rel);
    try {
      DocumentBuilderFactory dbf = DocumentBuilderFactory.newInstance();
      dbf.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      Document d = dbf.newDocumentBuilder().parse(f);
      return d.getDocumentElement();
    } catch (Exception e) {
      throw new Config.Invalid(rel + " is not well-formed XML: " + e.getMessage());
    }
  }

  private static boolean isEmpty(String s) {
    return s == null || s.trim().isEmpty();
  }

  private static List<Element> children(Element parent, String tag) {
    List<Element> out = new ArrayList<>();
    if (parent == null) return out;
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n instanceof Element && tag.equals(((Element) n).getTagName())) out.add((Element) n);
    }
    return out;
  }

  private static List<Element> children(List<Element> parents, String tag) {
    List<Element> out = new ArrayList<>();
    for (Element p : parents) out.addAll(children(p, tag));
    return out;
  }

  private static Element first(Element parent, String tag) {
    List<Element> l = children(parent, tag);
    return l.isEmpty() ? null : l.get(0);
  }

  private static String text(Element e) {
    return e == null ? null : e.getTextContent().trim();
  }

  private static String text(Element parent, String tag) {
    return text(first(parent, tag));
  }

  /** The text of `<Property name="...">` directly under the element. */
  private static String property(Element parent, String name) {
    for (Element p : children(parent, "Property")) if (name.equals(p.getAttribute("name"))) return p.getTextContent().trim();
    return null;
  }
}
