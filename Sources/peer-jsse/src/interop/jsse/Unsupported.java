package interop.jsse;

/** A cell JSSE cannot do: exit 3, decided before any socket is opened. */
final class Unsupported extends Exception {
    private static final long serialVersionUID = 1L;

    Unsupported(String reason) {
        super(reason);
    }
}
