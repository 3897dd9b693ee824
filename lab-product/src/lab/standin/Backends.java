package lab.standin;

import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Driver;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.naming.Context;
import javax.naming.NameNotFoundException;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.InitialDirContext;
import javax.naming.directory.SearchControls;

/**
 * The stand-in's real back ends: every network datasource is opened through the JDBC driver jar
 * found in repository/components/lib (as the product loads it) and a table the pack's own
 * dbscripts create is read; an LDAP user store is bound with the configured DN and password over
 * JNDI and its user search base is searched. Each check returns null when it is fine, else the
 * reason, worded to name the setting to fix.
 */
final class Backends {
  private Backends() {}

  /** A network datasource as the configuration names it. */
  static final class Ds {
    String name; // the product's own name: deployment.toml table or KM datasource name
    String key; // the datasource's key in the pack's dbscripts/ (identity, shared, ...), or null
    String where; // the file and element that set it
    String url;
    String username;
    String password;
    String driver;
  }

  /** An LDAP user store as the configuration names it. */
  static final class Ldap {
    String where;
    String url;
    String bindDn;
    String bindPassword;
    String userSearchBase;
    String userListFilter;
  }

  private static ClassLoader libs;
  private static final Map<String, Driver> drivers = new HashMap<>();

  /** The jars of repository/components/lib, loaded once (the product reads them at start only). */
  private static synchronized ClassLoader libs(File home) throws Exception {
    if (libs != null) return libs;
    File dir = new File(home, "repository/components/lib");
    File[] jars = dir.listFiles((d, n) -> n.endsWith(".jar"));
    if (jars == null) jars = new File[0];
    Arrays.sort(jars);
    URL[] urls = new URL[jars.length];
    for (int i = 0; i < jars.length; i++) urls[i] = jars[i].toURI().toURL();
    libs = new URLClassLoader(urls, Backends.class.getClassLoader());
    return libs;
  }

  private static synchronized Driver driver(File home, Ds ds) throws Exception {
    Driver d = drivers.get(ds.driver);
    if (d != null) return d;
    Class<?> c;
    try {
      c = Class.forName(ds.driver, true, libs(home));
    } catch (ClassNotFoundException | NoClassDefFoundError e) {
      String[] jars = new File(home, "repository/components/lib").list((dir, n) -> n.endsWith(".jar"));
      throw new Failure("driver class " + ds.driver + " (" + ds.where + " driver) is in no jar of repository/components/lib (jars: "
          + (jars == null ? "[]" : Arrays.toString(jars)) + "): install the JDBC driver jar (ob_jdbc_driver_jars)");
    }
    d = (Driver) c.getDeclaredConstructor().newInstance();
    drivers.put(ds.driver, d);
    return d;
  }

  static final class Failure extends Exception {
    Failure(String m) {
      super(m);
    }
  }

  /** The table the pack's dbscripts/<key>/ creates first (any dialect's script), or null. */
  static String probeTable(File home, String key) {
    if (key == null) return null;
    for (String dialect : new String[] {"mysql", "postgresql"}) {
      File f = new File(home, "dbscripts/" + key + "/" + dialect + ".sql");
      if (!f.isFile()) continue;
      try {
        Matcher m = Pattern.compile("(?i)CREATE\\s+TABLE\\s+(?:IF\\s+NOT\\s+EXISTS\\s+)?([A-Za-z0-9_]+)").matcher(new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8));
        if (m.find()) return m.group(1);
      } catch (Exception e) {
        return null;
      }
    }
    return null;
  }

  /** Opens the datasource and reads its probe table; null when it is fine, else why not. */
  static String check(File home, Ds ds) {
    try {
      Driver d = driver(home, ds);
      Properties p = new Properties();
      if (ds.username != null) p.setProperty("user", ds.username);
      if (ds.password != null) p.setProperty("password", ds.password);
      // Fail fast: a node whose database does not answer must not hang its start or health check.
      if (ds.url.startsWith("jdbc:postgresql:")) {
        p.setProperty("connectTimeout", "5");
        p.setProperty("socketTimeout", "10");
      } else {
        p.setProperty("connectTimeout", "5000");
        p.setProperty("socketTimeout", "10000");
      }
      Connection c;
      try {
        c = d.connect(ds.url, p);
      } catch (SQLException e) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
        boolean auth = "28000".equals(e.getSQLState()) || "28P01".equals(e.getSQLState()) || why.toLowerCase(java.util.Locale.ROOT).contains("access denied")
            || why.toLowerCase(java.util.Locale.ROOT).contains("password authentication failed");
        return "cannot connect to " + ds.url + " as " + ds.username + ": " + why
            + (auth ? " (check " + ds.where + " username and password)" : " (check " + ds.where + " url, and that the database answers)");
      }
      if (c == null) return "the driver " + ds.driver + " does not accept the url " + ds.url + " (" + ds.where + " url/driver)";
      try (Connection conn = c; Statement st = conn.createStatement()) {
        st.setQueryTimeout(10);
        String probe = probeTable(home, ds.key);
        String sql = probe == null ? "SELECT 1" : "SELECT COUNT(*) FROM " + probe;
        try (ResultSet rs = st.executeQuery(sql)) {
          rs.next();
        } catch (SQLException e) {
          if (probe == null) return "the query SELECT 1 failed on " + ds.url + ": " + e.getMessage();
          return "table " + probe + " cannot be read in " + ds.url + ": " + e.getMessage().split("\n")[0]
              + " (the schema dbscripts/" + ds.key + "/ has not been run on this database)";
        }
      }
      return null;
    } catch (Failure e) {
      return e.getMessage();
    } catch (Exception | LinkageError e) {
      // LinkageError: a driver jar that needs a class this JVM lacks (e.g. a module left out of it).
      return "cannot open " + ds.url + " with " + ds.driver + ": " + e;
    }
  }

  /** Binds to the directory and searches the user base; null when it is fine, else why not. */
  static String check(Ldap l) {
    Hashtable<String, String> env = new Hashtable<>();
    env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
    env.put(Context.PROVIDER_URL, l.url);
    env.put(Context.SECURITY_AUTHENTICATION, "simple");
    env.put(Context.SECURITY_PRINCIPAL, l.bindDn == null ? "" : l.bindDn);
    env.put(Context.SECURITY_CREDENTIALS, l.bindPassword == null ? "" : l.bindPassword);
    env.put("com.sun.jndi.ldap.connect.timeout", "5000");
    env.put("com.sun.jndi.ldap.read.timeout", "10000");
    InitialDirContext ctx;
    try {
      ctx = new InitialDirContext(env);
    } catch (javax.naming.AuthenticationException e) {
      return "bind to " + l.url + " as " + l.bindDn + " failed: " + e.getMessage() + " (check " + l.where + " connection name and password)";
    } catch (NamingException e) {
      return "cannot connect to " + l.url + ": " + e.getMessage() + " (check " + l.where + " connection URL, and that the directory answers)";
    }
    try {
      SearchControls sc = new SearchControls();
      sc.setSearchScope(SearchControls.ONELEVEL_SCOPE);
      sc.setCountLimit(1);
      sc.setReturningAttributes(new String[0]);
      String filter = l.userListFilter == null || l.userListFilter.isEmpty() ? "(objectClass=*)" : l.userListFilter;
      NamingEnumeration<?> r = ctx.search(l.userSearchBase, filter, sc);
      try {
        while (r.hasMore()) r.next();
      } catch (javax.naming.SizeLimitExceededException e) {
        // One entry is enough: the base exists and can be searched.
      }
      r.close();
      return null;
    } catch (NameNotFoundException e) {
      return "the user search base " + l.userSearchBase + " does not exist in " + l.url + " (check " + l.where + " UserSearchBase)";
    } catch (NamingException e) {
      return "cannot search the user search base " + l.userSearchBase + " in " + l.url + ": " + e.getMessage();
    } finally {
      try {
        ctx.close();
      } catch (NamingException e) {
        // Closing a context that failed is not news.
      }
    }
  }
}
