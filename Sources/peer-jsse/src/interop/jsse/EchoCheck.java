package interop.jsse;

/** The echo comparison of PEER-PROTOCOL.md step 3, shown so two lines that print alike never read alike. */
final class EchoCheck {
    private EchoCheck() {}

    private static final int WINDOW = 160;

    /** Null when received is expected byte for byte, else what differs. */
    static String mismatch(byte[] expected, byte[] received) {
        if (java.util.Arrays.equals(expected, received)) {
            return null;
        }
        int offset = 0;
        while (offset < expected.length && offset < received.length && expected[offset] == received[offset]) {
            offset++;
        }
        String detail;
        if (offset < expected.length && offset < received.length) {
            detail = String.format("expected 0x%02X, got 0x%02X", expected[offset] & 0xff, received[offset] & 0xff);
        } else if (offset < expected.length) {
            detail = "the echo ends there";
        } else {
            detail = "the echo goes on";
        }
        return String.format("echo mismatch: expected %d bytes %s, got %d bytes %s; first difference at byte %d (%s)",
            expected.length, escaped(expected, offset), received.length, escaped(received, offset), offset, detail);
    }

    static String escaped(byte[] b, int offset) {
        int start = 0;
        if (b.length > WINDOW) {
            start = Math.max(0, Math.min(offset - WINDOW / 4, b.length - WINDOW));
        }
        int end = Math.min(b.length, start + WINDOW);
        StringBuilder s = new StringBuilder();
        if (start > 0) {
            s.append('…');
        }
        s.append('"');
        for (int i = start; i < end; i++) {
            int x = b[i] & 0xff;
            switch (x) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (x >= 0x20 && x <= 0x7e) {
                        s.append((char) x);
                    } else {
                        s.append(String.format("\\x%02X", x));
                    }
                }
            }
        }
        s.append('"');
        if (end < b.length) {
            s.append('…');
        }
        return s.toString();
    }
}
