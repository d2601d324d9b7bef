package interop.jsse;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;

/**
 * What this JVM's JSSE supports, asked of it: suites and versions from SSLEngine's supported and
 * enabled lists under the default policy, and, from a child JVM started with --legacy's policy
 * ({@code capabilities-legacy}), what that policy adds (disabled_by_policy).
 */
final class Capabilities {
    private Capabilities() {}

    /**
     * The named groups SunJSSE 17 defines and enables by default (sun.security.ssl.NamedGroup and
     * its default jdk.tls.namedGroups order); each is listed only if the JCA here has its key pair
     * generator. JSSE 17 has no call that lists them.
     */
    private static final List<String> JSSE_GROUPS = List.of(
        "x25519", "secp256r1", "secp384r1", "secp521r1", "x448",
        "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192");

    private static SSLEngine probeEngine() throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(true);
        return engine;
    }

    /** The line a child JVM with the legacy policy prints: its supported suites and enabled-able protocols. */
    static void printLegacyProbe() throws Exception {
        ProcessPolicy.liftLegacy();
        SSLEngine engine = probeEngine();
        System.out.println("suites " + String.join(" ", engine.getSupportedCipherSuites()));
    }

    static Map<String, Object> line() throws Exception {
        SSLEngine engine = probeEngine();
        List<String> supported = Arrays.asList(engine.getSupportedCipherSuites());
        Set<String> enabled = new LinkedHashSet<>(Arrays.asList(engine.getEnabledCipherSuites()));
        List<String> legacy = legacySuites();
        List<Map<String, Object>> suites = new ArrayList<>();
        Set<String> all = new LinkedHashSet<>(supported);
        all.addAll(legacy);
        for (String name : all) {
            CipherSuiteCodes.Entry e = CipherSuiteCodes.byJsseName(name);
            if (e == null || name.endsWith("_SCSV")) {
                continue;
            }
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("code", String.format("0x%04X", e.code()));
            s.put("name", e.ianaName());
            s.put("library_name", name);
            s.put("min_version", null);
            s.put("max_version", null);
            s.put("default", enabled.contains(name));
            if (!supported.contains(name)) {
                s.put("disabled_by_policy", true);
            }
            suites.add(s);
        }
        List<String> versions = new ArrayList<>();
        for (String p : engine.getSupportedProtocols()) {
            String v = NegotiatedView.versionName(p);
            if (v != null) {
                versions.add(0, v);
            }
        }
        versions.sort(null);
        List<String> defaults = new ArrayList<>();
        for (String p : engine.getEnabledProtocols()) {
            String v = NegotiatedView.versionName(p);
            if (v != null) {
                defaults.add(v);
            }
        }
        defaults.sort(null);
        List<String> groups = new ArrayList<>();
        for (String g : JSSE_GROUPS) {
            if (groupAvailable(g)) {
                groups.add(g);
            }
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("event", "capabilities");
        c.put("protocol", 1);
        c.put("library", PeerJsse.library());
        c.put("versions", versions);
        c.put("default_versions", defaults);
        c.put("suites", suites);
        c.put("groups", groups);
        c.put("default_groups", groups);
        c.put("signature_schemes", null);
        c.put("certificate_types", certificateTypes());
        SSLContext context = SSLContext.getInstance("TLS");
        c.put("notes", List.of(
            "provider " + context.getProvider().getName() + " " + context.getProvider().getVersionStr()
                + "; jdk.tls.disabledAlgorithms: " + java.security.Security.getProperty("jdk.tls.disabledAlgorithms"),
            "TLS 1.0 and 1.1 and the 3DES suites are refused by jdk.tls.disabledAlgorithms; --legacy lifts just those",
            "the negotiated group and the handshake's signature scheme are not readable: JSSE 17 keeps them in no public field",
            "groups are process-wide in Java 17 (jdk.tls.namedGroups; SSLParameters.setNamedGroups is Java 20): the worker runs a cell with --group, --legacy or --resume session-id in a child JVM started for it",
            "resumed is read as 'the session was created before this handshake began' (SSLSession.getCreationTime): JSSE has no isResumed",
            "--key-update uses SSLEngine.beginHandshake on a TLS 1.3 connection (JSSE's KeyUpdate, update_requested); KeyUpdate counts are not readable",
            "no key log: JSSE cannot export secrets, --keylog writes nothing",
            "a sent alert is read from the records JSSE wraps; an encrypted one (TLS 1.3 after ServerHello) is not named"));
        c.put("features", List.of("sni", "resume-session-id", "resume-ticket", "transfer", "key-update", "worker", "ip-server-name"));
        // Never read back in either role (every view names them too), so a cell that must see a
        // group in effect between two JSSE peers is unsupported before a byte is sent.
        c.put("not_readable", List.of("group", "signature_scheme"));
        return c;
    }

    private static List<String> legacySuites() {
        List<String> command = new ArrayList<>(PeerJsse.javaCommand());
        command.add("capabilities-legacy");
        try {
            Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            p.getOutputStream().close();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (line.startsWith("suites ")) {
                        return Arrays.asList(line.substring(7).split(" "));
                    }
                }
            }
            p.waitFor();
        } catch (Exception e) {
            System.err.println("peer-jsse: the legacy-policy probe failed: " + e);
        }
        return List.of();
    }

    private static boolean groupAvailable(String group) {
        try {
            if (group.startsWith("x")) {
                KeyPairGenerator.getInstance("XDH").initialize(new NamedParameterSpec(group.toUpperCase()));
            } else if (group.startsWith("secp")) {
                KeyPairGenerator.getInstance("EC").initialize(new ECGenParameterSpec(group));
            } else {
                KeyPairGenerator.getInstance("DiffieHellman");
            }
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static List<String> certificateTypes() {
        List<String> types = new ArrayList<>();
        try {
            KeyPairGenerator.getInstance("RSA");
            types.add("rsa2048");
            types.add("rsa3072");
        } catch (Exception e) {
            // not here
        }
        String[][] curves = {{"ecdsa-p256", "secp256r1"}, {"ecdsa-p384", "secp384r1"}, {"ecdsa-p521", "secp521r1"}};
        for (String[] c : curves) {
            try {
                KeyPairGenerator.getInstance("EC").initialize(new ECGenParameterSpec(c[1]));
                types.add(c[0]);
            } catch (Exception e) {
                // not here
            }
        }
        try {
            KeyPairGenerator.getInstance("Ed25519");
            types.add("ed25519");
        } catch (Exception e) {
            // not here
        }
        return types;
    }
}
