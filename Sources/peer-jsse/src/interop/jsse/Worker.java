package interop.jsse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code peer-jsse worker}: one cell per request line on stdin, each on a fresh SSLContext, until
 * end of input. The worker's JVM keeps JSSE's default process-wide settings; a request that needs
 * others ({@link ProcessPolicy}: --group, --legacy, --resume session-id) runs in a child JVM started
 * for it ({@code worker-once}), whose lines this worker passes on. That child's start-up counts
 * against the cell's --timeout-ms, which runs from the moment the request was read.
 */
final class Worker {
    void run() throws IOException {
        watchParent();
        BufferedReader in = PeerJsse.lines(System.in);
        String line;
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
    }

    private static void usage(String message) {
        Map<String, Object> u = new LinkedHashMap<>();
        u.put("event", "usage");
        u.put("message", message);
        CellOutput.emit(u);
    }

    /** Runs one request in a child JVM with its own process-wide policy and passes its lines on. */
    private static void delegate(PeerRequest req, long start) {
        long elapsedMs = (System.nanoTime() - start) / 1_000_000L;
        int left = (int) Math.max(1, req.timeoutMs - elapsedMs);
        List<String> command = new ArrayList<>(PeerJsse.javaCommand());
        command.add("worker-once");
        String request = Json.write(req.withTimeout(left));
        boolean result = false;
        try {
            Process child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try (OutputStream stdin = child.getOutputStream()) {
                stdin.write((request + "\n").getBytes(StandardCharsets.UTF_8));
            }
            try (BufferedReader out = PeerJsse.lines(child.getInputStream())) {
                String line;
                while ((line = out.readLine()) != null) {
                    if (line.startsWith("{\"event\":\"result\"")) {
                        result = true;
                        System.out.print(line + "\n");
                        System.out.flush();
                    } else {
                        System.out.print(line + "\n");
                        System.out.flush();
                    }
                }
            }
            child.waitFor();
        } catch (IOException | InterruptedException e) {
            System.err.println("peer-jsse: the child JVM for a cell failed: " + e);
        }
        if (!result) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("event", "result");
            r.put("role", req.role);
            r.put("library", PeerJsse.library());
            r.put("status", "failed");
            r.put("reason", null);
            Map<String, Object> error = new PeerFailure("setup", "the child JVM started for this cell's process-wide settings ended without a result").json();
            r.put("error", error);
            r.put("log", "child JVM: " + String.join(" ", command));
            CellOutput.emit(r);
        }
    }

    /** {@code worker-once}: one request from stdin, run with its own process-wide policy applied first. */
    static void runOnce() throws IOException {
        long start = System.nanoTime();
        String line = PeerJsse.lines(System.in).readLine();
        if (line == null) {
            return;
        }
        PeerRequest req;
        try {
            req = PeerRequest.parse(Json.readStringArray(line));
        } catch (UsageException | IllegalArgumentException e) {
            usage("peer-jsse: " + e.getMessage());
            return;
        }
        req.policy().apply();
        new Cell(req, new CellOutput(true), start).run();
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
