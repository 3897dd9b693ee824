package lab.standin;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The TOML a deployment.toml uses: [tables], [[arrays of tables]], dotted and quoted keys, basic and
 * literal strings, integers, floats, booleans, arrays (also over several lines, nested, with
 * comments), inline tables. Anything else, a duplicate key or a table defined twice is a parse error
 * naming file:line, as the real product refuses such a file.
 */
final class Toml {
  private Toml() {}

  @SuppressWarnings("unchecked")
  static Map<String, Object> parse(String text, String file) throws Config.Invalid {
    Map<String, Object> root = new LinkedHashMap<>();
    Map<String, Object> cur = root;
    Set<String> defined = new HashSet<>();
    String[] lines = text.replace("\r\n", "\n").split("\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = stripComment(lines[i]).trim();
      if (line.isEmpty()) continue;
      String where = file + ":" + (i + 1);
      if (line.startsWith("[[")) {
        if (!line.endsWith("]]")) throw new Config.Invalid(where + ": bad table header");
        String[] path = keys(line.substring(2, line.length() - 2), where);
        Map<String, Object> parent = walk(root, path, path.length - 1, where);
        Object list = parent.computeIfAbsent(path[path.length - 1], k -> new ArrayList<>());
        if (!(list instanceof List)) throw new Config.Invalid(where + ": " + String.join(".", path) + " is not an array of tables");
        cur = new LinkedHashMap<>();
        ((List<Object>) list).add(cur);
      } else if (line.startsWith("[")) {
        if (!line.endsWith("]")) throw new Config.Invalid(where + ": bad table header");
        String[] path = keys(line.substring(1, line.length() - 1), where);
        String name = String.join(".", path);
        // A table of an array element is new per element; a plain table may be defined once.
        if (!underArray(root, path) && !defined.add(name)) throw new Config.Invalid(where + ": table [" + name + "] is defined twice");
        cur = walk(root, path, path.length, where);
      } else {
        int eq = findEq(line);
        if (eq < 0) throw new Config.Invalid(where + ": expected key = value");
        String[] path = keys(line.substring(0, eq), where);
        Map<String, Object> t = walk(cur, path, path.length - 1, where);
        String raw = line.substring(eq + 1).trim();
        // Multi-line arrays: join lines (comments dropped) until the brackets close.
        while (open(raw) > 0 && i + 1 < lines.length) raw += " " + stripComment(lines[++i]).trim();
        if (t.containsKey(path[path.length - 1])) throw new Config.Invalid(where + ": duplicate key " + String.join(".", path));
        Parser p = new Parser(raw, where);
        Object v = p.value();
        p.end();
        t.put(path[path.length - 1], v);
      }
    }
    return root;
  }

  private static boolean underArray(Map<String, Object> root, String[] path) {
    Object t = root;
    for (int i = 0; i < path.length - 1 && t instanceof Map; i++) {
      t = ((Map<?, ?>) t).get(path[i]);
      if (t instanceof List) return true;
    }
    return false;
  }

  /** Unclosed [ and { outside strings. */
  private static int open(String s) {
    int d = 0;
    char q = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (q != 0) {
        if (q == '"' && c == '\\') i++;
        else if (c == q) q = 0;
      } else if (c == '"' || c == '\'') q = c;
      else if (c == '[' || c == '{') d++;
      else if (c == ']' || c == '}') d--;
    }
    return d;
  }

  private static String stripComment(String l) {
    char q = 0;
    for (int i = 0; i < l.length(); i++) {
      char c = l.charAt(i);
      if (q != 0) {
        if (q == '"' && c == '\\') i++;
        else if (c == q) q = 0;
      } else if (c == '"' || c == '\'') q = c;
      else if (c == '#') return l.substring(0, i);
    }
    return l;
  }

  private static int findEq(String l) {
    char q = 0;
    for (int i = 0; i < l.length(); i++) {
      char c = l.charAt(i);
      if (q != 0) {
        if (c == q) q = 0;
      } else if (c == '"' || c == '\'') q = c;
      else if (c == '=') return i;
    }
    return -1;
  }

  private static String[] keys(String s, String where) throws Config.Invalid {
    List<String> out = new ArrayList<>();
    StringBuilder b = new StringBuilder();
    char q = 0;
    boolean quoted = false;
    for (char c : s.trim().toCharArray()) {
      if (q != 0) {
        if (c == q) q = 0;
        else b.append(c);
      } else if (c == '"' || c == '\'') {
        q = c;
        quoted = true;
      } else if (c == '.') {
        add(out, b, quoted, where);
        b.setLength(0);
        quoted = false;
      } else b.append(c);
    }
    if (q != 0) throw new Config.Invalid(where + ": unterminated quoted key");
    add(out, b, quoted, where);
    return out.toArray(new String[0]);
  }

  private static void add(List<String> out, StringBuilder b, boolean quoted, String where) throws Config.Invalid {
    String k = quoted ? b.toString() : b.toString().trim();
    if (!quoted && !k.matches("[A-Za-z0-9_-]+")) throw new Config.Invalid(where + ": invalid key '" + k + "'");
    out.add(k);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> walk(Map<String, Object> from, String[] path, int n, String where) throws Config.Invalid {
    Map<String, Object> t = from;
    for (int i = 0; i < n; i++) {
      Object next = t.computeIfAbsent(path[i], k -> new LinkedHashMap<String, Object>());
      if (next instanceof List) {
        List<Object> l = (List<Object>) next;
        next = l.isEmpty() ? null : l.get(l.size() - 1);
      }
      if (!(next instanceof Map)) throw new Config.Invalid(where + ": " + path[i] + " is not a table");
      t = (Map<String, Object>) next;
    }
    return t;
  }

  /** One value, from its first character. */
  private static final class Parser {
    final String s;
    final String where;
    int i;

    Parser(String s, String where) {
      this.s = s;
      this.where = where;
    }

    Config.Invalid bad(String why) {
      return new Config.Invalid(where + ": " + why + " in value " + s);
    }

    void ws() {
      while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) i++;
    }

    void end() throws Config.Invalid {
      ws();
      if (i < s.length()) throw bad("unexpected '" + s.charAt(i) + "'");
    }

    Object value() throws Config.Invalid {
      ws();
      if (i >= s.length()) throw bad("missing value");
      char c = s.charAt(i);
      if (c == '"') {
        if (s.startsWith("\"\"\"", i)) throw bad("multi-line strings are not supported");
        return basic();
      }
      if (c == '\'') {
        int e = s.indexOf('\'', i + 1);
        if (e < 0) throw bad("unterminated string");
        String v = s.substring(i + 1, e);
        i = e + 1;
        return v;
      }
      if (c == '[') return array();
      if (c == '{') return inline();
      int st = i;
      while (i < s.length() && ",]} \t".indexOf(s.charAt(i)) < 0) i++;
      String w = s.substring(st, i);
      if (w.equals("true") || w.equals("false")) return Boolean.valueOf(w);
      String n = w.replace("_", "");
      if (n.matches("[+-]?\\d+")) return Long.valueOf(n);
      if (n.matches("[+-]?\\d+(\\.\\d+)?([eE][+-]?\\d+)?")) return Double.valueOf(n);
      throw bad("invalid value '" + w + "'");
    }

    String basic() throws Config.Invalid {
      StringBuilder b = new StringBuilder();
      i++;
      while (i < s.length() && s.charAt(i) != '"') {
        char c = s.charAt(i++);
        if (c != '\\') {
          b.append(c);
          continue;
        }
        if (i >= s.length()) break;
        char e = s.charAt(i++);
        switch (e) {
          case 'n': b.append('\n'); break;
          case 't': b.append('\t'); break;
          case 'r': b.append('\r'); break;
          case '"': b.append('"'); break;
          case '\\': b.append('\\'); break;
          case 'u':
            if (i + 4 > s.length()) throw bad("bad \\u escape");
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
            break;
          default: throw bad("unknown escape \\" + e);
        }
      }
      if (i >= s.length()) throw bad("unterminated string");
      i++;
      return b.toString();
    }

    List<Object> array() throws Config.Invalid {
      List<Object> out = new ArrayList<>();
      i++;
      while (true) {
        ws();
        if (i >= s.length()) throw bad("unterminated array");
        if (s.charAt(i) == ']') {
          i++;
          return out;
        }
        out.add(value());
        ws();
        if (i < s.length() && s.charAt(i) == ',') i++;
        else if (i >= s.length() || s.charAt(i) != ']') throw bad("expected , or ] in array");
      }
    }

    Map<String, Object> inline() throws Config.Invalid {
      Map<String, Object> out = new LinkedHashMap<>();
      i++;
      ws();
      if (i < s.length() && s.charAt(i) == '}') {
        i++;
        return out;
      }
      while (true) {
        ws();
        int eq = findEq(s.substring(i));
        if (eq < 0) throw bad("expected key = value in inline table");
        String[] path = keys(s.substring(i, i + eq), where);
        i += eq + 1;
        Map<String, Object> t = walk(out, path, path.length - 1, where);
        if (t.containsKey(path[path.length - 1])) throw bad("duplicate key " + String.join(".", path));
        t.put(path[path.length - 1], value());
        ws();
        if (i < s.length() && s.charAt(i) == ',') {
          i++;
          continue;
        }
        if (i < s.length() && s.charAt(i) == '}') {
          i++;
          return out;
        }
        throw bad("expected , or } in inline table");
      }
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> table(Map<String, Object> m, String k) {
    Object v = m.get(k);
    return v instanceof Map ? (Map<String, Object>) v : Collections.emptyMap();
  }

  /** The value at a dotted path (no quoted segments), or null. */
  static Object at(Map<String, Object> m, String dotted) {
    Object cur = m;
    for (String k : dotted.split("\\.")) {
      if (!(cur instanceof Map)) return null;
      cur = ((Map<?, ?>) cur).get(k);
    }
    return cur;
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
