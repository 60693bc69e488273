import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.carerules.CompileException;
import org.carerules.Json;
import org.carerules.Ruleset;

/**
 * The Java binding end to end: the shipped bundle gives the CLI's answer on every sample
 * case, from 8 threads at once; a compile error and a bad record are reported as the API says.
 * Usage: java RulesetTest SOURCE_DIR CARERULES_CLI WORK_DIR (WORK_DIR/规则/规则.rules exists)
 */
public class RulesetTest {
  static int passed, failed;

  static void check(boolean ok, String what) {
    if (ok) {
      passed++;
    } else {
      failed++;
      System.err.println("FAILED: " + what);
    }
  }

  @SuppressWarnings("unchecked")
  static Map<String, String> decisions(String reportJson) {
    Map<String, Object> r = (Map<String, Object>) Json.parse(reportJson);
    Map<String, String> out = new LinkedHashMap<>();
    for (Object h : (List<Object>) r.get("hazards")) {
      Map<String, Object> m = (Map<String, Object>) h;
      out.put("hazard " + m.get("id"), (String) m.get("status"));
    }
    for (Map.Entry<String, Object> g : ((Map<String, Object>) r.get("grades")).entrySet())
      out.put("grade " + g.getKey(), (String) ((Map<String, Object>) g.getValue()).get("value"));
    return out;
  }

  static String cli(String bin, Path rules, Path facts) throws Exception {
    Process p = new ProcessBuilder(bin, "eval", "-r", rules.toString(), facts.toString(),
        "--asof", "2024-06-01").redirectErrorStream(false).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor();
    return out;
  }

  public static void main(String[] args) throws Exception {
    Path src = Path.of(args[0]);
    String bin = args[1];
    Path bundle = src.resolve("rulesets/institution.rules");
    String asof = "{\"asof\": \"2024-06-01\"}";
    check(Ruleset.engineVersion().startsWith("carerules "), "engine version");

    List<Path> cases = new ArrayList<>();
    try (var files = Files.list(src.resolve("examples/data/cases"))) {
      files.filter(f -> f.toString().endsWith(".json")).sorted().forEach(cases::add);
    }
    check(cases.size() >= 5, "sample cases found");

    try (Ruleset rs = Ruleset.compileFile(bundle.toString(), null)) {
      Map<Path, Map<String, String>> expected = new LinkedHashMap<>();
      for (Path c : cases) {
        Map<String, String> want = decisions(cli(bin, bundle, c));
        Map<String, String> got = decisions(rs.evaluate(Files.readString(c), asof));
        check(!want.isEmpty() && want.equals(got), "same decisions as the CLI for " + c);
        expected.put(c, want);
      }

      // 8 threads share the ruleset; every answer equals the CLI's.
      ExecutorService pool = Executors.newFixedThreadPool(8);
      List<Future<Boolean>> runs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        runs.add(pool.submit(() -> {
          boolean ok = true;
          for (int round = 0; round < 25; round++)
            for (Path c : cases)
              ok &= expected.get(c).equals(decisions(rs.evaluate(Files.readString(c), asof)));
          return ok;
        }));
      }
      for (Future<Boolean> f : runs) check(f.get(), "a thread saw the CLI's decisions");
      pool.shutdown();

      // bytes in and out give the very same report
      for (Path c : cases) {
        byte[] report = rs.evaluateUtf8(Files.readAllBytes(c), asof);
        check(new String(report, StandardCharsets.UTF_8).equals(rs.evaluate(Files.readString(c), asof)),
            "evaluateUtf8 equals evaluate for " + c);
      }

      // a record that is not JSON: its own report says so
      String bad = rs.evaluate("{\"id\": ", asof);
      @SuppressWarnings("unchecked")
      Map<String, Object> badReport = (Map<String, Object>) Json.parse(bad);
      check(!((List<Object>) badReport.get("errors")).isEmpty(), "bad JSON is the record's error");

      // a batch keeps its order
      String batch = rs.evaluateBatch("{\"id\": \"a\"}\n{\"id\": \"b\"}\n", asof);
      String[] lines = batch.split("\n");
      check(lines.length == 2 && lines[0].contains("\"subject\":\"a\"")
          && lines[1].contains("\"subject\":\"b\""), "batch order");

      // info lists every file with its own identity
      String info = rs.info();
      check(info.contains("\"name\":\"mca_major_hazards_2023\""), "info lists the hazard file");
      check(rs.schema().contains("2020-12"), "schema");
    }

    try {
      Ruleset.compileText("ruleset x {\n  title \"t\"\n  version \"1\"\n  let a = b +\n}\n",
          "broken.rules", null);
      check(false, "a compile error throws");
    } catch (CompileException e) {
      CompileException.Diagnostic d = e.diagnostics().get(0);
      check(d.file().equals("broken.rules") && d.line() == 5 && d.column() >= 1
          && d.severity().equals("error") && !d.message().isEmpty(), "diagnostic " + d);
    }

    // Chinese names reach the engine as UTF-8 whatever the locale: run-test.sh runs this
    // under LC_ALL=C, where JNA would encode a String argument as ASCII.
    String zh = "\u89c4\u5219";  // 规则
    try {
      Ruleset.compileText("ruleset x {\n  version \"1\"\n  let a = b +\n}\n", zh + ".rules", null);
      check(false, "a compile error throws");
    } catch (CompileException e) {
      check(e.diagnostics().get(0).file().equals(zh + ".rules"), "Chinese name in " + e);
    }
    try (Ruleset rs = Ruleset.compileFile(args[2] + "/" + zh + "/" + zh + ".rules",
        "{\"import_roots\": [\"" + args[2] + "/" + zh + "\"]}")) {
      check(rs.info().contains("/" + zh + "/" + zh + ".rules\""), "a file under a Chinese path");
    }

    try {
      Ruleset.compileFile("/nonexistent.rules", null);
      check(false, "a missing file throws");
    } catch (org.carerules.CarerulesException e) {
      check(e.status().equals("io_error"), "missing file is io_error");
    }

    Ruleset closed = Ruleset.compileText(
        "ruleset y {\n title \"t\"\n version \"1\"\n}\n", "y.rules", null);
    closed.close();
    closed.close();  // twice is harmless
    try {
      closed.evaluate("{}", asof);
      check(false, "a closed ruleset refuses");
    } catch (IllegalStateException e) {
      check(true, "closed");
    }

    System.out.println(passed + " passed, " + failed + " failed");
    System.exit(failed == 0 ? 0 : 1);
  }
}
