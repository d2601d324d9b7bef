package interop.jsse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/** One cell as the runner asks for it: the options of PEER-PROTOCOL.md, parsed. */
final class PeerRequest {
    final List<String> arguments;
    String role;
    String version;
    Integer suite;
    List<String> groups = List.of();
    String certPath;
    String keyPath;
    String caPath;
    String clientAuth = "none";
    String serverName = "localhost";
    int port;
    int timeoutMs = 10000;
    String message = "interop-matrix ping";
    boolean legacy;
    List<String> alpn = List.of();
    String keylogPath;
    boolean truncate;
    String altName;
    String altCertPath;
    String altKeyPath;
    String resume;
    long transfer;
    boolean keyUpdate;

    private static final Set<String> VERSIONS = Set.of("TLS1.0", "TLS1.1", "TLS1.2", "TLS1.3");

    private PeerRequest(List<String> arguments) {
        this.arguments = List.copyOf(arguments);
    }

    /** How many connections the peer makes or takes: two when resuming. */
    int connections() {
        return resume != null ? 2 : 1;
    }

    /** The process-wide JSSE settings this cell needs (JSSE 17 reads them once per process). */
    ProcessPolicy policy() {
        return new ProcessPolicy(groups, legacy, "session-id".equals(resume));
    }

    /** Reads {@code server|client --option value …} exactly as PEER-PROTOCOL.md lists them. */
    static PeerRequest parse(List<String> args) throws UsageException {
        if (args.isEmpty() || !(args.get(0).equals("server") || args.get(0).equals("client"))) {
            throw new UsageException("expected 'server', 'client', 'worker' or 'capabilities' as the first argument");
        }
        PeerRequest r = new PeerRequest(args);
        r.role = args.get(0);
        for (int i = 1; i < args.size(); i++) {
            String option = args.get(i);
            switch (option) {
                case "--legacy" -> {
                    r.legacy = true;
                    continue;
                }
                case "--truncate" -> {
                    r.truncate = true;
                    continue;
                }
                case "--key-update" -> {
                    r.keyUpdate = true;
                    continue;
                }
                default -> { }
            }
            if (i + 1 >= args.size()) {
                if (isValueOption(option)) {
                    throw new UsageException(option + " needs a value");
                }
                throw new UsageException("unknown option " + option);
            }
            if (!isValueOption(option)) {
                throw new UsageException("unknown option " + option);
            }
            String text = args.get(++i);
            switch (option) {
                case "--version" -> {
                    if (!VERSIONS.contains(text)) {
                        throw new UsageException("--version " + text + ": expected one of TLS1.0, TLS1.1, TLS1.2, TLS1.3");
                    }
                    r.version = text;
                }
                case "--suite" -> {
                    if (!text.matches("0x[0-9A-Fa-f]{1,4}")) {
                        throw new UsageException("--suite " + text + ": expected an IANA code point such as 0xC02B");
                    }
                    r.suite = Integer.parseInt(text.substring(2), 16);
                }
                case "--group" -> r.groups = List.of(text.split(",", -1));
                case "--cert" -> r.certPath = text;
                case "--key" -> r.keyPath = text;
                case "--ca" -> r.caPath = text;
                case "--client-auth" -> {
                    if (!Set.of("none", "optional", "required").contains(text)) {
                        throw new UsageException("--client-auth " + text + ": expected none, optional or required");
                    }
                    r.clientAuth = text;
                }
                case "--server-name" -> r.serverName = text;
                case "--port" -> r.port = number(option, text, 1, 65535);
                case "--timeout-ms" -> r.timeoutMs = number(option, text, 1, Integer.MAX_VALUE);
                case "--message" -> r.message = text;
                case "--keylog" -> r.keylogPath = text;
                case "--alt-name" -> r.altName = text;
                case "--alt-cert" -> r.altCertPath = text;
                case "--alt-key" -> r.altKeyPath = text;
                case "--resume" -> {
                    if (!text.equals("session-id") && !text.equals("ticket")) {
                        throw new UsageException("--resume " + text + ": expected session-id or ticket");
                    }
                    r.resume = text;
                }
                case "--transfer" -> r.transfer = number(option, text, 1, 1 << 30);
                case "--alpn" -> {
                    r.alpn = List.of(text.split(",", -1));
                    for (String p : r.alpn) {
                        if (p.isEmpty() || p.length() > 255) {
                            throw new UsageException("--alpn " + text + ": expected comma-separated protocol names such as h2,http/1.1");
                        }
                    }
                }
                default -> throw new UsageException("unknown option " + option);
            }
        }
        for (String g : r.groups) {
            if (g.isEmpty()) {
                throw new UsageException("--group: expected comma-separated group names such as x25519,secp256r1");
            }
        }
        if (r.role.equals("client") && r.port == 0) {
            throw new UsageException("client needs --port");
        }
        if (r.role.equals("server") && (r.certPath == null || r.keyPath == null)) {
            throw new UsageException("server needs --cert and --key");
        }
        if ((r.certPath == null) != (r.keyPath == null)) {
            throw new UsageException("--cert and --key go together");
        }
        long alt = Arrays.asList(r.altName, r.altCertPath, r.altKeyPath).stream().filter(s -> s != null).count();
        if (alt != 0 && alt != 3) {
            throw new UsageException("--alt-name, --alt-cert and --alt-key go together");
        }
        if (r.message.contains("\n")) {
            throw new UsageException("--message must be one line");
        }
        return r;
    }

    /** The same arguments with --timeout-ms replaced: what a delegated child JVM is given. */
    List<String> withTimeout(int ms) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < arguments.size(); i++) {
            if (arguments.get(i).equals("--timeout-ms") && i + 1 < arguments.size()) {
                i++;
                continue;
            }
            out.add(arguments.get(i));
        }
        out.add("--timeout-ms");
        out.add(Integer.toString(ms));
        return out;
    }

    private static boolean isValueOption(String option) {
        return switch (option) {
            case "--version", "--suite", "--group", "--cert", "--key", "--ca", "--client-auth", "--server-name",
                 "--port", "--timeout-ms", "--message", "--keylog", "--alt-name", "--alt-cert", "--alt-key",
                 "--resume", "--transfer", "--alpn" -> true;
            default -> false;
        };
    }

    private static int number(String option, String text, int min, int max) throws UsageException {
        try {
            long v = Long.parseLong(text);
            if (v >= min && v <= max) {
                return (int) v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + " " + text + ": expected a number from " + min + " to " + max);
    }
}
