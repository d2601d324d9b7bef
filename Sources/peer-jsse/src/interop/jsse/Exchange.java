package interop.jsse;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;

/** The application data of one connection as this side counted it: bytes and FNV-1a 64 digests. */
final class Exchange {
    private static final long FNV_OFFSET = 0xcbf29ce484222325L;
    private static final long FNV_PRIME = 0x100000001b3L;

    long bytesSent;
    long bytesReceived;
    private long digestSent = FNV_OFFSET;
    private long digestReceived = FNV_OFFSET;

    /** Counts the bytes of b between from and b's position (what a read or write just moved). */
    void sent(ByteBuffer b, int from) {
        for (int i = from; i < b.position(); i++) {
            digestSent = (digestSent ^ (b.get(i) & 0xff)) * FNV_PRIME;
        }
        bytesSent += b.position() - from;
    }

    void received(ByteBuffer b, int from) {
        for (int i = from; i < b.position(); i++) {
            digestReceived = (digestReceived ^ (b.get(i) & 0xff)) * FNV_PRIME;
        }
        bytesReceived += b.position() - from;
    }

    Map<String, Object> json() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("bytes_sent", bytesSent);
        e.put("bytes_received", bytesReceived);
        e.put("digest_sent", String.format("fnv1a64:%016x", digestSent));
        e.put("digest_received", String.format("fnv1a64:%016x", digestReceived));
        // JSSE has no callback that shows KeyUpdate messages.
        e.put("key_updates_sent", null);
        e.put("key_updates_received", null);
        return e;
    }
}
