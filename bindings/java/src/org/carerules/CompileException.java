package org.carerules;

import java.util.List;

/** A ruleset that does not compile, with every diagnostic the compiler found. */
public class CompileException extends CarerulesException {
  /** One diagnostic: where, how bad, and what. */
  public record Diagnostic(String file, int line, int column, String severity, String message) {
    @Override
    public String toString() {
      return file + ":" + line + ":" + column + ": " + severity + ": " + message;
    }
  }

  private final List<Diagnostic> diagnostics;

  CompileException(String message, List<Diagnostic> diagnostics) {
    super("compile_error", message);
    this.diagnostics = List.copyOf(diagnostics);
  }

  /** Every diagnostic, errors and warnings, in file and line order. */
  public List<Diagnostic> diagnostics() {
    return diagnostics;
  }
}
