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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    for (Map.Entry<String, String> ds : cfg.datasources.entrySet()) {
      if (!reachable(endpointOf(ds.getValue()), 3000)) {
        log("ERROR", "org.wso2.carbon.ndatasource.rdbms.RDBMSDataSourceReader", "Cannot connect to datasource " + ds.getKey() + " at " + ds.getValue());
        System.exit(1);
      }
    }
    if (cfg.ldapUrl != null && !reachable(endpointOf(cfg.ldapUrl), 3000)) {
      log("ERROR", "org.wso2.carbon.user.core.ldap.LDAPConnectionContext", "Cannot connect to the user store at " + cfg.ldapUrl);
      System.exit(1);
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
    https.setHttpsConfigurator(new HttpsConfigurator(sslContext(home)));
    for (HttpServer s : new HttpServer[] {http, https}) {
      s.setExecutor(Executors.newFixedThreadPool(16));
      s.createContext("/", ex -> handle(ex, cfg, node, version, product, userstores));
      s.start();
    }
    log("INFO", "org.wso2.carbon.core.transports.http.HttpTransportListener", "HTTP port : " + httpPort);
    log("INFO", "org.wso2.carbon.core.transports.http.HttpsTransportListener", "HTTPS port : " + httpsPort);
    started = true;
    long secs = Math.max(1, Math.round((System.currentTimeMillis() - t0) / 1000.0));
    log("INFO", "org.wso2.carbon.core.internal.StartupFinalizerServiceComponent", "Server           :  " + product + "-" + version);
    log("INFO", "org.wso2.carbon.core.internal.StartupFinalizerServiceComponent", "WSO2 Carbon started in " + secs + " sec");
  }

  static String endpointOf(String url) {
    Matcher m = Pattern.compile("//(\\[[^\\]]+\\]|[^/:;?]+)(?::(\\d+))?").matcher(url);
    if (!m.find()) return url;
    String port = m.group(2);
    if (port == null) port = url.startsWith("ldaps") ? "636" : url.startsWith("ldap") ? "389" : url.contains(":mysql:") ? "3306" : url.contains(":postgresql:") ? "5432" : "1521";
    return m.group(1) + ":" + port;
  }

  static boolean reachable(String hostPort, int timeoutMs) {
    int i = hostPort.lastIndexOf(':');
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(hostPort.substring(0, i), Integer.parseInt(hostPort.substring(i + 1))), timeoutMs);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static SSLContext sslContext(File home) throws Exception {
    File ks = new File(home, "repository/resources/security/wso2carbon.jks");
    char[] pass = System.getProperty("lab.keystorePassword", "wso2carbon").toCharArray();
    KeyStore store = KeyStore.getInstance("JKS");
    try (FileInputStream in = new FileInputStream(ks)) {
      store.load(in, pass);
    }
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(store, pass);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), null, null);
    return ctx;
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
        body.put("status", started && !stopping ? "UP" : "DOWN");
        body.put("node", node);
        body.put("product", product);
        body.put("version", version);
        body.put("hostname", cfg.hostname);
        body.put("clustering", cfg.clustering);
        body.put("members", new ArrayList<>(members));
        body.put("userstores", us);
        body.put("sessions", sessions.size());
        body.put("requests", requests.get());
        send(ex, started && !stopping ? 200 : 503, "application/json", Json.write(body));
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
