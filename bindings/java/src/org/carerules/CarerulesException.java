package org.carerules;

/** A call the engine refused: a bad argument or option, an unreadable file, an internal fault. */
public class CarerulesException extends RuntimeException {
  private final String status;

  CarerulesException(String status, String message) {
    super(status + ": " + message);
    this.status = status;
  }

  /** The C ABI's status: usage_error, io_error, limit or internal. */
  public String status() {
    return status;
  }
}
