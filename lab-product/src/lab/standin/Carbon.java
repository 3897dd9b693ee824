package lab.standin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.BufferedReader;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.text.SimpleDateFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * LAB STAND-IN for WSO2 OB IAM 2.0 / OB KM 1.5.0: not the real product. It reads the real
 * configuration files, refuses bad settings, forms a WKA cluster over TCP on the membership port,
 * logs like Carbon, and serves a health endpoint and node-local sessions so load-balancer
 * stickiness and rolling restarts can be tested on lab hosts.
 */
public final class Carbon {
  private static PrintStream log;
  private static final SimpleDateFormat TS = new SimpleDateFormat("yyyy-MM-dd HH:mm:ss,SSS");
  private static volatile boolean started;
  private static volatile boolean stopping;
  private static final Map<String, Long> lastSeen = new ConcurrentHashMap<>();
  private static final Map<String, String> memberInfo = new ConcurrentHashMap<>();
  private static final Map<String, AtomicInteger> sessions = new ConcurrentHashMap<>();
  private static final AtomicInteger requests = new AtomicInteger();
  private static final AtomicInteger active = new AtomicInteger();

  private Carbon() {}

  static synchronized void log(String level, String cls, String msg) {
    String line = "[" + TS.format(new Date()) + "]  " + level + " {" + cls + "} - " + msg;
    log.println(line);
    log.flush();
  }

  public static void main(String[] args) throws Exception {
    File home = new File(System.getProperty("carbon.home", ".")).getCanonicalFile();
    String profile = System.getProperty("lab.profile", "obiam");
    String version = System.getProperty("lab.version", "0.0.0");
    String product = profile.equals("obiam") ? "WSO2 Open Banking IAM" : "WSO2 Open Banking Key Manager";
    File logs = new File(home, "repository/logs");
    logs.mkdirs();
    log = new PrintStream(new FileOutputStream(new File(logs, "wso2carbon.log"), true), true, "UTF-8");
    long t0 = System.currentTimeMillis();
    log("INFO", "org.wso2.carbon.core.internal.CarbonCoreActivator", "Starting " + product + " " + version + " (lab stand-in) from " + home);
    Config cfg;
    try {
      cfg = Config.load(home, profile);
    } catch (Config.Invalid e) {
      log("ERROR", "org.wso2.carbon.server.Main", "Invalid configuration: " + e.getMessage() + ". Server is shutting down.");
      System.exit(1);
      return;
    }
    if (System.getProperty("lab.failStart") != null || new File(home, "bin/lab-fail-start").exists()) {
      log("ERROR", "org.wso2.carbon.server.Main", "Start-up failure requested by this build (lab stand-in fault injection)");
      System.exit(1);
    }
    // Every datasource through its JDBC driver, then the user store: all are reported, then the start stops.
    boolean failed = false;
    for (Backends.Ds ds : cfg.datasources.values()) {
      String why = Backends.check(home, ds);
      dsState.put(ds.name, why == null ? "UP" : why);
      if (why != null) {
        log("ERROR", "org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader", "Datasource " + ds.name + ": " + why);
        failed = true;
      } else {
        log("INFO", "org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader", "Datasource " + ds.name + " connected (" + ds.url + ")");
      }
    }
    if (cfg.ldap != null) {
      String why = Backends.check(cfg.ldap);
      storeState = why == null ? "UP" : why;
      if (why != null) {
        log("ERROR", "org.wso2.carbon.user.core.ldap.LDAPConnectionContext", "User store " + cfg.ldap.url + ": " + why);
        failed = true;
      } else {
        log("INFO", "org.wso2.carbon.user.core.ldap.LDAPConnectionContext", "User store " + cfg.ldap.url + " bound as " + cfg.ldap.bindDn + ", user search base " + cfg.ldap.userSearchBase);
      }
    }
    if (failed) {
      log("ERROR", "org.wso2.carbon.server.Main", "Start-up failed: a datasource or the user store is not usable. Server is shutting down.");
      System.exit(1);
    }
    SSLContext ssl;
    try {
      ssl = sslContext(cfg);
    } catch (Exception e) {
      log("ERROR", "org.wso2.carbon.core.transports.http.HttpsTransportListener", "Cannot use the key store " + cfg.httpsKeystore + ": " + e.getMessage() + ". Server is shutting down.");
      System.exit(1);
      return;
    }
    String node = System.getProperty("lab.node", java.net.InetAddress.getLocalHost().getHostName());
    int httpPort = 9763 + cfg.offset;
    int httpsPort = 9443 + cfg.offset;
    File userstores = new File(home, "repository/deployment/server/userstores");

    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      stopping = true;
      log("INFO", "org.wso2.carbon.core.init.CarbonServerManager", "Shutdown hook triggered....");
      log("INFO", "org.wso2.carbon.core.init.CarbonServerManager", "Halting JVM");
    }));

    long delay = Long.getLong("lab.startupDelayMs", 5000L);
    if (cfg.clustering) startCluster(cfg, node, version);
    Thread.sleep(delay);

    HttpServer http = HttpServer.create(new InetSocketAddress(httpPort), 200);
    HttpsServer https = HttpsServer.create(new InetSocketAddress(httpsPort), 200);
    https.setHttpsConfigurator(new HttpsConfigurator(ssl));
    for (HttpServer s : new HttpServer[] {http, https}) {
      s.setExecutor(Executors.newFixedThreadPool(16));
      s.createContext("/", ex -> handle(ex, cfg, node, version, product, userstores));
      s.start();
    }
    log("INFO", "org.wso2.carbon.core.transports.http.HttpTransportListener", "HTTP port : " + httpPort);
    log("INFO", "org.wso2.carbon.core.transports.http.HttpsTransportListener", "HTTPS port : " + httpsPort);
    started = true;
    startRecheck(home, cfg);
    long secs = Math.max(1, Math.round((System.currentTimeMillis() - t0) / 1000.0));
    log("INFO", "org.wso2.carbon.core.internal.StartupFinalizerServiceComponent", "Server           :  " + product + "-" + version);
    log("INFO", "org.wso2.carbon.core.internal.StartupFinalizerServiceComponent", "WSO2 Carbon started in " + secs + " sec");
  }

  /** The HTTPS transport's key store, as the configuration names it (file, type, passwords). */
  private static SSLContext sslContext(Config cfg) throws Exception {
    if (cfg.httpsKeystore == null || cfg.httpsKeystorePassword == null) throw new IOException("no key store is configured for HTTPS");
    KeyStore store = KeyStore.getInstance(cfg.httpsKeystoreType);
    try (FileInputStream in = new FileInputStream(cfg.httpsKeystore)) {
      store.load(in, cfg.httpsKeystorePassword.toCharArray());
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, cfg.httpsKeyPassword.toCharArray());
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
  }

  // ---- Back ends after the start: rechecked every few seconds; the health check goes DOWN while one fails.

  private static final Map<String, String> dsState = new ConcurrentHashMap<>();
  private static volatile String storeState;

  private static void startRecheck(File home, Config cfg) {
    long every = Long.getLong("lab.recheckMs", 5000L);
    Thread t = new Thread(() -> {
      while (!stopping) {
        try {
          Thread.sleep(every);
        } catch (InterruptedException e) {
          return;
        }
        for (Backends.Ds ds : cfg.datasources.values()) {
          String why = Backends.check(home, ds);
          String now = why == null ? "UP" : why;
          String was = dsState.put(ds.name, now);
          if (!now.equals(was)) {
            if (why != null) log("ERROR", "org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader", "Datasource " + ds.name + ": " + why);
            else log("INFO", "org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader", "Datasource " + ds.name + " connected again (" + ds.url + ")");
          }
        }
        if (cfg.ldap != null) {
          String why = Backends.check(cfg.ldap);
          String now = why == null ? "UP" : why;
          String was = storeState;
          storeState = now;
          if (!now.equals(was)) {
            if (why != null) log("ERROR", "org.wso2.carbon.user.core.ldap.LDAPConnectionContext", "User store " + cfg.ldap.url + ": " + why);
            else log("INFO", "org.wso2.carbon.user.core.ldap.LDAPConnectionContext", "User store " + cfg.ldap.url + " reachable again");
          }
        }
      }
    }, "backend-recheck");
    t.setDaemon(true);
    t.start();
  }

  private static boolean backendsUp() {
    for (String v : dsState.values()) if (!"UP".equals(v)) return false;
    return storeState == null || "UP".equals(storeState);
  }

  private static Map<String, Object> state(String v) {
    Map<String, Object> m = new TreeMap<>();
    m.put("status", "UP".equals(v) ? "UP" : "DOWN");
    if (!"UP".equals(v)) m.put("error", v);
    return m;
  }

  // ---- WKA membership: every member dials every other member once a second; a member is in the
  // cluster while it answered within the last 3 seconds. Joins and leaves are logged like Hazelcast.

  private static void startCluster(Config cfg, String node, String version) throws IOException {
    String self = cfg.localMemberHost + ":" + cfg.localMemberPort;
    ServerSocket ss = new ServerSocket();
    ss.setReuseAddress(true);
    ss.bind(new InetSocketAddress(cfg.localMemberHost, cfg.localMemberPort));
    log("INFO", "org.wso2.carbon.core.clustering.hazelcast.HazelcastClusteringAgent", "Using wka based membership management scheme, local member " + self);
    Thread acceptor = new Thread(() -> {
      while (!ss.isClosed()) {
        try (Socket s = ss.accept()) {
          s.setSoTimeout(2000);
          BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
          String hello = r.readLine();
          OutputStream out = s.getOutputStream();
          out.write(("WELCOME " + node + " " + self + " " + version + " " + (started ? "up" : "starting") + "\n").getBytes(StandardCharsets.UTF_8));
          out.flush();
          if (hello != null) {
            String[] f = hello.split(" ");
            if (f.length >= 4 && f[0].equals("HELLO") && cfg.members.contains(f[2])) seen(f[2], f[1] + " " + f[3]);
          }
        } catch (IOException e) {
          // A member that hangs up mid-greeting is just not seen this round.
        }
      }
    }, "wka-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    Thread dialer = new Thread(() -> {
      while (!stopping) {
        for (String m : cfg.members) {
          if (m.equals(self)) continue;
          int i = m.lastIndexOf(':');
          try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(m.substring(0, i), Integer.parseInt(m.substring(i + 1))), 1000);
            s.setSoTimeout(2000);
            PrintWriter w = new PrintWriter(s.getOutputStream(), true);
            w.println("HELLO " + node + " " + self + " " + version);
            String reply = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (reply != null && reply.startsWith("WELCOME ")) {
              String[] f = reply.split(" ");
              seen(m, f[1] + " " + f[3]);
            }
          } catch (Exception e) {
            // Not reachable this round; expiry below decides when it has left.
          }
        }
        long now = System.currentTimeMillis();
        for (Map.Entry<String, Long> e : lastSeen.entrySet()) {
          if (now - e.getValue() > 3000 && lastSeen.remove(e.getKey(), e.getValue())) {
            log("INFO", "org.wso2.carbon.core.clustering.hazelcast.wka.WKABasedMembershipScheme", "Member left [" + memberInfo.get(e.getKey()) + "]: /" + e.getKey());
          }
        }
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, "wka-dial");
    dialer.setDaemon(true);
    dialer.start();
  }

  private static void seen(String member, String info) {
    memberInfo.put(member, info);
    if (lastSeen.put(member, System.currentTimeMillis()) == null) {
      log("INFO", "org.wso2.carbon.core.clustering.hazelcast.wka.WKABasedMembershipScheme", "Member joined [" + info + "]: /" + member);
    }
  }

  // ---- HTTP

  private static void handle(HttpExchange ex, Config cfg, String node, String version, String product, File userstores) throws IOException {
    active.incrementAndGet();
    try {
      requests.incrementAndGet();
      String path = URI.create(ex.getRequestURI().toString()).getPath();
      ex.getResponseHeaders().add("X-Lab-Node", node);
      if (path.equals("/api/health-check/v1.0/health")) {
        if (!cfg.healthCheck) {
          send(ex, 404, "text/plain", "health check disabled\n");
          return;
        }
        TreeSet<String> members = new TreeSet<>();
        if (cfg.clustering) {
          members.add(cfg.localMemberHost + ":" + cfg.localMemberPort);
          members.addAll(lastSeen.keySet());
        }
        String[] files = userstores.list();
        if (files == null) files = new String[0];
        Arrays.sort(files);
        List<String> us = new ArrayList<>();
        for (String f : files) if (!f.startsWith(".")) us.add(f);
        Map<String, Object> body = new TreeMap<>();
        boolean up = started && !stopping && backendsUp();
        body.put("status", up ? "UP" : "DOWN");
        Map<String, Object> dss = new TreeMap<>();
        for (Backends.Ds ds : cfg.datasources.values()) {
          Map<String, Object> st = state(dsState.getOrDefault(ds.name, "not checked yet"));
          st.put("url", ds.url);
          dss.put(ds.name, st);
        }
        body.put("datasources", dss);
        if (cfg.ldap != null) {
          Map<String, Object> st = state(storeState == null ? "not checked yet" : storeState);
          st.put("url", cfg.ldap.url);
          st.put("user_search_base", cfg.ldap.userSearchBase);
          body.put("user_store", st);
        } else {
          Map<String, Object> st = new TreeMap<>();
          st.put("status", "UP");
          st.put("type", "jdbc (in the user manager's datasource)");
          body.put("user_store", st);
        }
        body.put("node", node);
        body.put("product", product);
        body.put("version", version);
        body.put("hostname", cfg.hostname);
        body.put("clustering", cfg.clustering);
        body.put("members", new ArrayList<>(members));
        body.put("userstores", us);
        body.put("sessions", sessions.size());
        body.put("requests", requests.get());
        send(ex, up ? 200 : 503, "application/json", Json.write(body));
      } else if (path.equals("/carbon/admin/login.jsp")) {
        send(ex, 200, "text/html", "<html><body>" + product + " " + version + " on " + node + " (lab stand-in)</body></html>\n");
      } else if (path.equals("/session")) {
        String id = cookie(ex, "JSESSIONID");
        AtomicInteger n = id == null ? null : sessions.get(id);
        boolean lost = id != null && n == null;
        if (n == null) {
          id = node + "." + UUID.randomUUID();
          n = new AtomicInteger();
          sessions.put(id, n);
          ex.getResponseHeaders().add("Set-Cookie", "JSESSIONID=" + id + "; Path=/; Secure; HttpOnly");
        }
        Map<String, Object> body = new TreeMap<>();
        body.put("node", node);
        body.put("version", version);
        body.put("session", id);
        body.put("count", n.incrementAndGet());
        body.put("lost", lost);
        send(ex, 200, "application/json", Json.write(body));
      } else {
        send(ex, 404, "text/plain", "not found\n");
      }
    } finally {
      active.decrementAndGet();
    }
  }

  private static String cookie(HttpExchange ex, String name) {
    List<String> hs = ex.getRequestHeaders().get("Cookie");
    if (hs == null) return null;
    for (String h : hs) {
      for (String part : h.split(";")) {
        String p = part.trim();
        if (p.startsWith(name + "=")) return p.substring(name.length() + 1);
      }
    }
    return null;
  }

  private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(b);
    }
  }
}
