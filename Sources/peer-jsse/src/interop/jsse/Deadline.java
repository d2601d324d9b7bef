package interop.jsse;

/** The instant by which everything a cell does must be done (--timeout-ms from the request's start). */
final class Deadline {
    private final long endNanos;
    final int timeoutMs;

    Deadline(long startNanos, int timeoutMs) {
        this.timeoutMs = timeoutMs;
        this.endNanos = startNanos + timeoutMs * 1_000_000L;
    }

    /** Milliseconds left, at least 0. */
    long remainingMs() {
        long left = endNanos - System.nanoTime();
        return left <= 0 ? 0 : Math.max(1, left / 1_000_000L);
    }

    boolean passed() {
        return System.nanoTime() >= endNanos;
    }

    /** A deadline at most {@code ms} from now and never past this one. */
    Deadline capped(long ms) {
        long now = System.nanoTime();
        long end = Math.min(endNanos, now + ms * 1_000_000L);
        return new Deadline(now, (int) Math.max(0, (end - now) / 1_000_000L));
    }

    PeerFailure timeout(String stage) {
        PeerFailure f = PeerFailure.ours("timeout", stage + " did not finish within " + timeoutMs + " ms");
        f.libraryCode = "ETIMEDOUT";
        return f;
    }
}
