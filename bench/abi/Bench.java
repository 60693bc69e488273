import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.carerules.Ruleset;

/**
 * Microseconds per record through the Java binding (JNA): with Java strings in and out, and
 * with UTF-8 bytes. Usage: java Bench RULES FACTS N
 */
public class Bench {
  public static void main(String[] args) throws Exception {
    String facts = Files.readString(Path.of(args[1]));
    byte[] factsUtf8 = facts.getBytes(StandardCharsets.UTF_8);
    String options = "{\"asof\": \"2024-06-01\"}";
    int n = Integer.parseInt(args[2]);
    long sink = 0;
    try (Ruleset rs = Ruleset.compileFile(args[0], null)) {
      for (int round = 0; round < 3; round++) {  // the JIT warms up on the first rounds
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) sink += rs.evaluate(facts, options).length();
        long t1 = System.nanoTime();
        for (int i = 0; i < n; i++) sink += rs.evaluateUtf8(factsUtf8, options).length;
        long t2 = System.nanoTime();
        if (round == 2) {
          System.out.printf("java_us %.2f%n", (t1 - t0) / 1000.0 / n);
          System.out.printf("java_utf8_us %.2f%n", (t2 - t1) / 1000.0 / n);
        }
      }
    }
    if (sink == 0) System.exit(1);
  }
}
