package interop.jsse;

import java.security.Security;
import java.util.ArrayList;
import java.util.List;

/**
 * The JSSE settings Java 17 reads once per process, at first use: the named groups
 * ({@code jdk.tls.namedGroups}; {@code SSLParameters.setNamedGroups} arrives only in Java 20), the
 * protocol policy ({@code jdk.tls.disabledAlgorithms}, which --legacy lifts) and whether session
 * tickets are used at all ({@code jdk.tls.server/client.enableSessionTicketExtension}, off for
 * --resume session-id). A worker runs as {@link #DEFAULT}; a request that needs another policy runs
 * in a child JVM started with it.
 */
record ProcessPolicy(List<String> groups, boolean legacy, boolean noTickets) {
    static final ProcessPolicy DEFAULT = new ProcessPolicy(List.of(), false, false);

    /**
     * What --legacy removes from {@code jdk.tls.disabledAlgorithms}: TLS 1.0 and 1.1 and the 3DES
     * suites (disabled in JDK 17's java.security).
     * RC4, DES, NULL, anon, static ECDH and SSLv3 stay off: SunJSSE still implements them, but they
     * are broken or unauthenticated, or (static ECDH) need certificates the runner does not make.
     */
    static final List<String> LEGACY_LIFTS = List.of("TLSv1", "TLSv1.1", "3DES_EDE_CBC");

    /** Sets the properties; must run before the first SSLContext. */
    void apply() {
        if (!groups.isEmpty()) {
            System.setProperty("jdk.tls.namedGroups", String.join(",", groups));
        }
        if (legacy) {
            liftLegacy();
        }
        if (noTickets) {
            System.setProperty("jdk.tls.server.enableSessionTicketExtension", "false");
            System.setProperty("jdk.tls.client.enableSessionTicketExtension", "false");
        }
    }

    /** Removes {@link #LEGACY_LIFTS} from the security property, keeping the rest of it as configured. */
    static void liftLegacy() {
        String current = Security.getProperty("jdk.tls.disabledAlgorithms");
        if (current == null) {
            return;
        }
        List<String> kept = new ArrayList<>();
        for (String entry : current.split(",")) {
            String e = entry.strip();
            if (!e.isEmpty() && !LEGACY_LIFTS.contains(e)) {
                kept.add(e);
            }
        }
        Security.setProperty("jdk.tls.disabledAlgorithms", String.join(", ", kept));
    }
}
