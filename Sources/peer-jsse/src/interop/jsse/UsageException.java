package interop.jsse;

/** A command line the protocol does not allow: exit 2, or a worker's usage line. */
final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
        super(message);
    }
}
