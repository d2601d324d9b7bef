package interop.jsse;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * The --transfer stream: byte i is the top byte of i × 0x9E3779B97F4A7C15 mod 2⁶⁴. The client writes
 * and reads in one loop, waiting only when neither moved; the server echoes as it reads, holding at
 * most 1 MiB unechoed.
 */
final class Transfer {
    private static final int CHUNK = 16384;
    private static final int UNECHOED_LIMIT = 1 << 20;

    private final TlsChannel tls;
    private final Exchange exchange;
    private final long total;

    Transfer(TlsChannel tls, Exchange exchange, long total) {
        this.tls = tls;
        this.exchange = exchange;
        this.total = total;
    }

    static byte patternByte(long i) {
        return (byte) ((i * 0x9E3779B97F4A7C15L) >>> 56);
    }

    private void check(ByteBuffer b, int from) throws PeerFailure {
        long offset = exchange.bytesReceived;
        for (int i = from; i < b.position(); i++) {
            byte want = patternByte(offset + i - from);
            if (b.get(i) != want) {
                throw PeerFailure.ours("data", String.format("byte %d of the transfer is 0x%02X, not 0x%02X as the pattern has it",
                    offset + i - from, b.get(i) & 0xff, want & 0xff));
            }
        }
    }

    private void received(ByteBuffer b, int from) throws PeerFailure {
        check(b, from);
        exchange.received(b, from);
    }

    void send() throws IOException, PeerFailure {
        ByteBuffer outgoing = ByteBuffer.allocate(CHUNK);
        outgoing.limit(0);
        long produced = 0;
        ByteBuffer incoming = ByteBuffer.allocate(64 * 1024);
        while (exchange.bytesReceived < total || exchange.bytesSent < total) {
            boolean moved = false;
            if (!outgoing.hasRemaining() && produced < total) {
                outgoing.clear();
                int n = (int) Math.min(CHUNK, total - produced);
                for (int i = 0; i < n; i++) {
                    outgoing.put(patternByte(produced + i));
                }
                outgoing.flip();
                produced += n;
            }
            if (outgoing.hasRemaining() || tls.hasPendingOutput()) {
                int before = outgoing.position();
                int n = tls.writeSome(outgoing);
                if (n > 0) {
                    exchange.sent(outgoing.duplicate().position(before + n), before);
                    moved = true;
                }
            }
            incoming.clear();
            int r = tls.readSome(incoming);
            if (r > 0) {
                received(incoming, 0);
                moved = true;
            } else if (r == -1) {
                throw PeerFailure.ours("data", "peer sent close_notify after " + exchange.bytesReceived + " of " + total + " bytes");
            } else if (r == -2) {
                throw PeerFailure.ours("data", "the stream ended without close_notify after " + exchange.bytesReceived + " of " + total + " bytes");
            }
            if (!moved) {
                tls.await(true, outgoing.hasRemaining() || tls.hasPendingOutput(), "data");
            }
        }
        tls.flushAll("data");
    }

    void echo() throws IOException, PeerFailure {
        ByteBuffer unechoed = ByteBuffer.allocate(UNECHOED_LIMIT + 64 * 1024);
        unechoed.flip();
        ByteBuffer incoming = ByteBuffer.allocate(64 * 1024);
        while (exchange.bytesReceived < total || unechoed.hasRemaining() || tls.hasPendingOutput()) {
            boolean moved = false;
            if (unechoed.hasRemaining() || tls.hasPendingOutput()) {
                int before = unechoed.position();
                int n = tls.writeSome(unechoed);
                if (n > 0) {
                    exchange.sent(unechoed.duplicate().position(before + n), before);
                    moved = true;
                }
            }
            if (exchange.bytesReceived < total && unechoed.remaining() < UNECHOED_LIMIT) {
                incoming.clear();
                int r = tls.readSome(incoming);
                if (r > 0) {
                    received(incoming, 0);
                    unechoed.compact();
                    incoming.flip();
                    unechoed.put(incoming);
                    unechoed.flip();
                    moved = true;
                } else if (r == -1) {
                    throw PeerFailure.ours("data", "peer sent close_notify after " + exchange.bytesReceived + " of " + total + " bytes");
                } else if (r == -2) {
                    throw PeerFailure.ours("data", "the stream ended without close_notify after " + exchange.bytesReceived + " of " + total + " bytes");
                }
            }
            if (!moved) {
                boolean wantRead = exchange.bytesReceived < total && unechoed.remaining() < UNECHOED_LIMIT;
                tls.await(wantRead, unechoed.hasRemaining() || tls.hasPendingOutput(), "data");
            }
        }
    }
}
