package interop.jsse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code peer-jsse worker}: one cell per request line on stdin, each on a fresh SSLContext, until
 * end of input. The worker's JVM keeps JSSE's default process-wide settings; a request that needs
 * others ({@link ProcessPolicy}: --group, --legacy, --resume session-id) runs in a child worker JVM
 * started with that policy ({@code worker-policy}) and kept for every later request with the same
 * one; this worker passes its lines on. A child's start-up counts against the --timeout-ms of the
 * first cell that needs it (it runs from the moment the request was read); later cells pay nothing.
 */
final class Worker {
    /** The child workers, one per process-wide policy, started when a request first needs one. */
    private final Map<ProcessPolicy, PolicyWorker> children = new HashMap<>();

    void run() throws IOException {
        watchParent();
        BufferedReader in = PeerJsse.lines(System.in);
        String line;
        try {
            while ((line = in.readLine()) != null) {
                long start = System.nanoTime();
                if (line.isBlank()) {
                    continue;
                }
                List<String> args;
                try {
                    args = Json.readStringArray(line);
                } catch (IllegalArgumentException e) {
                    usage("a request must be a JSON array of strings");
                    continue;
                }
                PeerRequest req;
                try {
                    req = PeerRequest.parse(args);
                } catch (UsageException e) {
                    usage("peer-jsse: " + e.getMessage());
                    continue;
                }
                if (req.policy().equals(ProcessPolicy.DEFAULT)) {
                    new Cell(req, new CellOutput(true), start).run();
                } else {
                    delegate(req, start);
                }
            }
        } finally {
            for (PolicyWorker child : children.values()) {
                child.close();
            }
        }
    }

    private static void usage(String message) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("event", "usage");
        u.put("message", message);
        CellOutput.emit(u);
    }

    /** Runs one request in the child worker of its policy (started now if none is alive) and passes its lines on. */
    private void delegate(PeerRequest req, long start) {
        ProcessPolicy policy = req.policy();
        PolicyWorker child = children.get(policy);
        String failure;
        try {
            if (child == null || !child.process.isAlive()) {
                if (child != null) {
                    child.close();
                }
                child = new PolicyWorker();
                children.put(policy, child);
            }
            long elapsedMs = (System.nanoTime() - start) / 1_000_000L;
            int left = (int) Math.max(1, req.timeoutMs - elapsedMs);
            if (child.relay(Json.write(req.withTimeout(left)))) {
                return;
            }
            failure = "the child JVM for this cell's process-wide settings ended without a result";
        } catch (IOException e) {
            failure = "the child JVM for this cell's process-wide settings failed: " + e.getMessage();
        }
        children.remove(policy);
        if (child != null) {
            child.close();
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("event", "result");
        r.put("role", req.role);
        r.put("library", PeerJsse.library());
        r.put("status", "failed");
        r.put("reason", null);
        r.put("error", new PeerFailure("setup", failure).json());
        r.put("log", "child JVM: " + String.join(" ", PolicyWorker.command()));
        CellOutput.emit(r);
    }

    /** A child JVM in {@code worker-policy} mode: requests in on its stdin, lines out on its stdout. */
    private static final class PolicyWorker {
        final Process process;
        private final OutputStream requests;
        private final BufferedReader lines;

        static List<String> command() {
            List<String> command = new ArrayList<>(PeerJsse.javaCommand());
            command.add("worker-policy");
            return command;
        }

        PolicyWorker() throws IOException {
            ProcessBuilder builder = new ProcessBuilder(command()).redirectError(ProcessBuilder.Redirect.INHERIT);
            // The child watches this worker as this worker watches the runner.
            builder.environment().put("INTEROP_MATRIX_PARENT_PID", Long.toString(ProcessHandle.current().pid()));
            process = builder.start();
            requests = process.getOutputStream();
            lines = PeerJsse.lines(process.getInputStream());
        }

        /** Sends one request and passes every line on up to its result; false if the child ended first. */
        boolean relay(String request) throws IOException {
            requests.write((request + "\n").getBytes(StandardCharsets.UTF_8));
            requests.flush();
            String line;
            while ((line = lines.readLine()) != null) {
                System.out.print(line + "\n");
                System.out.flush();
                if (line.startsWith("{\"event\":\"result\"") || line.startsWith("{\"event\":\"usage\"")) {
                    return true;
                }
            }
            return false;
        }

        /** End of input ends the child; one that has not ended a second later is killed. */
        void close() {
            try {
                requests.close();
            } catch (IOException e) {
                // Already gone.
            }
            try {
                if (!process.waitFor(1, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
            }
        }
    }

    /**
     * {@code worker-policy}: a worker whose process-wide policy is its first request's, applied
     * before any SSLContext; the parent worker sends it only requests with that policy, and one
     * with another is refused rather than run under the wrong settings.
     */
    static void runPolicy() throws IOException {
        watchParent();
        BufferedReader in = PeerJsse.lines(System.in);
        ProcessPolicy applied = null;
        String line;
        while ((line = in.readLine()) != null) {
            long start = System.nanoTime();
            if (line.isBlank()) {
                continue;
            }
            PeerRequest req;
            try {
                req = PeerRequest.parse(Json.readStringArray(line));
            } catch (UsageException | IllegalArgumentException e) {
                usage("peer-jsse: " + e.getMessage());
                continue;
            }
            if (applied == null) {
                applied = req.policy();
                applied.apply();
            } else if (!applied.equals(req.policy())) {
                usage("peer-jsse: this child JVM runs " + applied + ", not " + req.policy());
                continue;
            }
            new Cell(req, new CellOutput(true), start).run();
        }
    }

    /**
     * Ends the worker once the runner that started it is gone: its pid is in
     * INTEROP_MATRIX_PARENT_PID, and an orphan's parent changes. End of stdin ends it too.
     */
    private static void watchParent() {
        String text = System.getenv("INTEROP_MATRIX_PARENT_PID");
        if (text == null) {
            return;
        }
        long pid;
        try {
            pid = Long.parseLong(text.strip());
        } catch (NumberFormatException e) {
            return;
        }
        Thread watcher = new Thread(() -> {
            while (true) {
                long parent = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(-1L);
                if (parent != pid) {
                    Runtime.getRuntime().halt(0);
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "parent-watch");
        watcher.setDaemon(true);
        watcher.start();
    }
}
