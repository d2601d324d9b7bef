package interop.jsse;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** peer-jsse: the interop-matrix peer for Java's JSSE (Sources/PeerKit/PEER-PROTOCOL.md), JDK only. */
public final class PeerJsse {
    private PeerJsse() {}

    private static final String USAGE =
        "usage: peer-jsse capabilities | worker | server|client [options]; see Sources/PeerKit/PEER-PROTOCOL.md";

    /** The identity every line carries: JSSE is part of the JVM it runs in. */
    static Map<String, Object> library() {
        Map<String, Object> l = new LinkedHashMap<>();
        l.put("id", "jsse");
        l.put("name", "Java JSSE");
        l.put("version", System.getProperty("java.version"));
        return l;
    }

    public static void main(String[] argv) throws Exception {
        long start = System.nanoTime();
        List<String> args = Arrays.asList(argv);
        if (args.isEmpty()) {
            System.err.println(USAGE);
            System.exit(2);
        }
        switch (args.get(0)) {
            case "--help" -> {
                System.err.println(USAGE);
                System.exit(0);
            }
            case "capabilities" -> {
                CellOutput.emit(Capabilities.line());
                System.exit(0);
            }
            case "capabilities-legacy" -> {
                Capabilities.printLegacyProbe();
                System.exit(0);
            }
            case "worker" -> {
                new Worker().run();
                System.exit(0);
            }
            case "training" -> {
                Training.run(args.subList(1, args.size()));
                System.exit(0);
            }
            case "worker-policy" -> {
                Worker.runPolicy();
                System.exit(0);
            }
            default -> { }
        }
        PeerRequest req;
        try {
            req = PeerRequest.parse(args);
        } catch (UsageException e) {
            System.err.println("peer-jsse: " + e.getMessage());
            System.exit(2);
            return;
        }
        // A one-cell peer is a fresh process: its process-wide JSSE settings are this cell's.
        req.policy().apply();
        System.exit(new Cell(req, new CellOutput(false), start).run());
    }

    /** The command that starts another JVM like this one (same java, options and class path). */
    static List<String> javaCommand() {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + "/bin/java");
        for (String option : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!option.startsWith("-Dinterop.jsse.") && !option.startsWith("-Djdk.tls.")
                && !option.startsWith("-XX:ArchiveClassesAtExit")) {
                command.add(option);
            }
        }
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(PeerJsse.class.getName());
        return command;
    }

    /** Reads a whole stream as lines (a child's stdout). */
    static BufferedReader lines(java.io.InputStream in) {
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }
}
