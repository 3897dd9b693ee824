package lab.standin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The TOML subset deployment.toml uses. Anything else is a parse error naming the line. */
final class Toml {
  private Toml() {}

  @SuppressWarnings("unchecked")
  static Map<String, Object> parse(String text, String file) throws Config.Invalid {
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, Object> cur = root;
    String[] lines = text.split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = stripComment(lines[i]).trim();
      if (line.isEmpty()) continue;
      String where = file + ":" + (i + 1);
      if (line.startsWith("[[")) {
        if (!line.endsWith("]]")) throw new Config.Invalid(where + ": bad table header");
        String[] path = keys(line.substring(2, line.length() - 2), where);
        Map<String, Object> parent = walk(root, path, path.length - 1, where);
        Object list = parent.computeIfAbsent(path[path.length - 1], k -> new ArrayList<>());
        if (!(list instanceof List)) throw new Config.Invalid(where + ": " + path[path.length - 1] + " is not an array of tables");
        cur = new LinkedHashMap<>();
        ((List<Object>) list).add(cur);
      } else if (line.startsWith("[")) {
        if (!line.endsWith("]")) throw new Config.Invalid(where + ": bad table header");
        String[] path = keys(line.substring(1, line.length() - 1), where);
        cur = walk(root, path, path.length, where);
      } else {
        int eq = findEq(line);
        if (eq < 0) throw new Config.Invalid(where + ": expected key = value");
        String[] path = keys(line.substring(0, eq), where);
        Map<String, Object> t = walk(cur, path, path.length - 1, where);
        String raw = line.substring(eq + 1).trim();
        // Multi-line arrays: join until the closing bracket.
        while (raw.startsWith("[") && depth(raw) > 0 && i + 1 < lines.length) raw += " " + stripComment(lines[++i]).trim();
        if (t.containsKey(path[path.length - 1])) throw new Config.Invalid(where + ": duplicate key " + path[path.length - 1]);
        t.put(path[path.length - 1], value(raw, where));
      }
    }
    return root;
  }

  private static int depth(String s) {
    int d = 0;
    boolean q = false;
    for (char c : s.toCharArray()) {
      if (c == '"') q = !q;
      else if (!q && c == '[') d++;
      else if (!q && c == ']') d--;
    }
    return d;
  }

  private static String stripComment(String l) {
    boolean q = false;
    for (int i = 0; i < l.length(); i++) {
      char c = l.charAt(i);
      if (c == '"' || c == '\'') q = !q;
      else if (c == '#' && !q) return l.substring(0, i);
    }
    return l;
  }

  private static int findEq(String l) {
    boolean q = false;
    for (int i = 0; i < l.length(); i++) {
      char c = l.charAt(i);
      if (c == '"') q = !q;
      else if (c == '=' && !q) return i;
    }
    return -1;
  }

  private static String[] keys(String s, String where) throws Config.Invalid {
    List<String> out = new ArrayList<>();
    StringBuilder b = new StringBuilder();
    boolean q = false;
    for (char c : s.trim().toCharArray()) {
      if (c == '"') q = !q;
      else if (c == '.' && !q) {
        out.add(b.toString().trim());
        b.setLength(0);
      } else b.append(c);
    }
    out.add(b.toString().trim());
    for (String k : out) if (k.isEmpty()) throw new Config.Invalid(where + ": empty key");
    return out.toArray(new String[0]);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> walk(Map<String, Object> from, String[] path, int n, String where) throws Config.Invalid {
    Map<String, Object> t = from;
    for (int i = 0; i < n; i++) {
      Object next = t.computeIfAbsent(path[i], k -> new LinkedHashMap<String, Object>());
      if (next instanceof List) {
        List<Object> l = (List<Object>) next;
        next = l.get(l.size() - 1);
      }
      if (!(next instanceof Map)) throw new Config.Invalid(where + ": " + path[i] + " is not a table");
      t = (Map<String, Object>) next;
    }
    return t;
  }

  private static Object value(String raw, String where) throws Config.Invalid {
    if (raw.startsWith("\"") && raw.endsWith("\"") && raw.length() >= 2) return raw.substring(1, raw.length() - 1).replace("\\\"", "\"").replace("\\\\", "\\");
    if (raw.startsWith("'") && raw.endsWith("'") && raw.length() >= 2) return raw.substring(1, raw.length() - 1);
    if (raw.equals("true") || raw.equals("false")) return Boolean.valueOf(raw);
    if (raw.matches("-?\\d+")) return Long.valueOf(raw);
    if (raw.matches("-?\\d+\\.\\d+")) return Double.valueOf(raw);
    if (raw.startsWith("[") && raw.endsWith("]")) {
      String inner = raw.substring(1, raw.length() - 1).trim();
      List<Object> out = new ArrayList<>();
      if (inner.isEmpty()) return out;
      StringBuilder b = new StringBuilder();
      boolean q = false;
      for (char c : inner.toCharArray()) {
        if (c == '"') q = !q;
        if (c == ',' && !q) {
          if (!b.toString().trim().isEmpty()) out.add(value(b.toString().trim(), where));
          b.setLength(0);
        } else b.append(c);
      }
      if (!b.toString().trim().isEmpty()) out.add(value(b.toString().trim(), where));
      return out;
    }
    if (raw.startsWith("{")) return Collections.emptyMap(); // inline tables are not read by the stand-in
    throw new Config.Invalid(where + ": invalid value " + raw);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> table(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v instanceof Map ? (Map<String, Object>) v : Collections.emptyMap();
  }

  static String str(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v == null ? null : String.valueOf(v);
  }

  static int integer(Map<String, Object> m, String k, int def) throws Config.Invalid {
    Object v = m.get(k);
    if (v == null) return def;
    try {
      return Integer.parseInt(String.valueOf(v));
    } catch (NumberFormatException e) {
      throw new Config.Invalid(k + " must be a number, is " + v);
    }
  }
}
