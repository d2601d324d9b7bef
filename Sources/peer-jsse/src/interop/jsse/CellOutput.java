package interop.jsse;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** Where a cell's lines go: protocol lines on stdout; logs on stderr, or into the result's log in a worker. */
final class CellOutput {
    private static final PrintStream STDOUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
    private final boolean worker;
    private final StringBuilder log = new StringBuilder();
    /** Told the port when a server listens (the build's training run); null otherwise. */
    java.util.function.IntConsumer onListening;

    CellOutput(boolean worker) {
        this.worker = worker;
    }

    /** Prints one protocol line, whole and flushed. */
    static synchronized void emit(Object line) {
        STDOUT.print(Json.write(line) + "\n");
        STDOUT.flush();
    }

    void log(String line) {
        if (worker) {
            synchronized (log) {
                log.append(line).append('\n');
            }
        } else {
            System.err.println(line);
        }
    }

    void listening(int port) {
        emit(Map.of("event", "listening", "port", port));
        if (onListening != null) {
            onListening.accept(port);
        }
    }

    void finish(Map<String, Object> result) {
        if (worker) {
            synchronized (log) {
                result.put("log", log.toString());
            }
        }
        emit(result);
    }
}
