package interop.jsse;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * One TLS connection: an SSLEngine over a non-blocking SocketChannel, driven by the engine's
 * results (NEED_WRAP, NEED_UNWRAP, NEED_TASK run inline; BUFFER_OVERFLOW and UNDERFLOW by growing
 * or draining the buffers) and a Selector that waits for what the engine asked, never past the
 * deadline. Every buffer is kept in write mode: its position is how many bytes it holds.
 */
final class TlsChannel implements AutoCloseable {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    final SocketChannel channel;
    final SSLEngine engine;
    private final Selector selector;
    private final SelectionKey key;
    Deadline deadline;
    private ByteBuffer netIn;
    private ByteBuffer netOut;
    private ByteBuffer appIn;
    /** TCP itself ended (read returned -1). */
    boolean tcpEnded;
    /** The other side's close_notify arrived. */
    boolean closeNotifyReceived;
    /** A fatal alert this side sent in the clear, read from the records JSSE wrapped; null if none seen. */
    Integer alertSent;
    /** True once a record JSSE wrapped after a failure was encrypted, so its alert is not readable. */
    boolean alertEncrypted;

    TlsChannel(SocketChannel channel, SSLEngine engine, Deadline deadline) throws IOException {
        this.channel = channel;
        this.engine = engine;
        this.deadline = deadline;
        channel.configureBlocking(false);
        this.selector = Selector.open();
        this.key = channel.register(selector, 0);
        int packet = engine.getSession().getPacketBufferSize();
        netIn = ByteBuffer.allocate(packet);
        netOut = ByteBuffer.allocate(packet * 2);
        appIn = ByteBuffer.allocate(Math.max(engine.getSession().getApplicationBufferSize(), 16 * 1024 + 256));
    }

    /** Waits until the socket is ready for what is asked, or throws the deadline's failure. */
    void await(boolean read, boolean write, String stage) throws IOException, PeerFailure {
        long left = deadline.remainingMs();
        if (left <= 0) {
            throw deadline.timeout(stage);
        }
        key.interestOps((read ? SelectionKey.OP_READ : 0) | (write ? SelectionKey.OP_WRITE : 0));
        selector.select(left);
        selector.selectedKeys().clear();
    }

    boolean hasPendingOutput() {
        return netOut.position() > 0;
    }

    /** Writes what the socket takes of the wrapped bytes; true if any moved. */
    boolean flushSome() throws IOException {
        if (netOut.position() == 0) {
            return false;
        }
        netOut.flip();
        int n = channel.write(netOut);
        netOut.compact();
        return n > 0;
    }

    void flushAll(String stage) throws IOException, PeerFailure {
        while (hasPendingOutput()) {
            if (!flushSome()) {
                await(false, true, stage);
            }
        }
    }

    /** Reads what the socket has into netIn: bytes read, 0 if none now, -1 once TCP ended. */
    private int fill() throws IOException {
        if (!netIn.hasRemaining()) {
            netIn = grow(netIn, engine.getSession().getPacketBufferSize());
        }
        int n = channel.read(netIn);
        if (n < 0) {
            tcpEnded = true;
        }
        return n;
    }

    private static ByteBuffer grow(ByteBuffer b, int atLeast) {
        ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + atLeast));
        b.flip();
        bigger.put(b);
        return bigger;
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    /** One wrap of src (what it takes of it) into netOut; returns the bytes of src consumed. */
    private int wrap(ByteBuffer src) throws IOException, PeerFailure {
        while (true) {
            int before = netOut.position();
            SSLEngineResult r = engine.wrap(src, netOut);
            if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                if (hasPendingOutput()) {
                    flushAll("handshake");
                } else {
                    netOut = grow(netOut, engine.getSession().getPacketBufferSize());
                }
                continue;
            }
            noteAlert(before);
            if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                runTasks();
            }
            return r.bytesConsumed();
        }
    }

    /**
     * Reads a fatal alert from a record JSSE just wrapped, where it travels in the clear (TLS 1.2,
     * and TLS 1.3 before the handshake keys): content type 21, length 2, level 2.
     */
    private void noteAlert(int from) {
        int end = netOut.position();
        for (int at = from; at + 5 <= end; ) {
            int type = netOut.get(at) & 0xff;
            int length = ((netOut.get(at + 3) & 0xff) << 8) | (netOut.get(at + 4) & 0xff);
            if (type == 21 && length == 2 && at + 7 <= end && (netOut.get(at + 5) & 0xff) == 2) {
                alertSent = netOut.get(at + 6) & 0xff;
            }
            at += 5 + length;
        }
    }

    /** One unwrap from netIn; false when it needs more bytes from the network. */
    private boolean unwrap() throws IOException {
        while (true) {
            netIn.flip();
            SSLEngineResult r;
            try {
                r = engine.unwrap(netIn, appIn);
            } finally {
                netIn.compact();
            }
            switch (r.getStatus()) {
                case BUFFER_UNDERFLOW -> {
                    return false;
                }
                case BUFFER_OVERFLOW -> {
                    appIn = grow(appIn, engine.getSession().getApplicationBufferSize());
                    continue;
                }
                case CLOSED -> {
                    closeNotifyReceived = closeNotifyReceived || engine.isInboundDone();
                    return true;
                }
                default -> {
                    if (r.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
                        runTasks();
                    }
                    return r.bytesConsumed() > 0 || r.bytesProduced() > 0;
                }
            }
        }
    }

    /** Runs the handshake to its end (the engine not handshaking, every byte of it written). */
    void handshake() throws IOException, PeerFailure {
        engine.beginHandshake();
        driveHandshake("handshake");
    }

    /** Drives the engine while it is handshaking (also a post-handshake KeyUpdate this side starts). */
    void driveHandshake(String stage) throws IOException, PeerFailure {
        while (true) {
            HandshakeStatus hs = engine.getHandshakeStatus();
            switch (hs) {
                case NEED_TASK -> runTasks();
                case NEED_WRAP -> {
                    wrap(EMPTY);
                    flushSome();
                    if (engine.isOutboundDone()) {
                        flushAll(stage);
                        throw new SSLException("the engine closed during the handshake");
                    }
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                    if (unwrap()) {
                        if (closeNotifyReceived) {
                            throw new SSLException("the other side sent close_notify during the handshake");
                        }
                        continue;
                    }
                    flushSome();
                    int n = fill();
                    if (n < 0) {
                        // JSSE's own words for a stream that ends: closeInbound throws when no
                        // close_notify came first.
                        engine.closeInbound();
                        throw new SSLException("the stream ended during the handshake");
                    }
                    if (n == 0) {
                        await(true, hasPendingOutput(), stage);
                    }
                }
                default -> {
                    flushAll(stage);
                    return;
                }
            }
        }
    }

    /** Handles post-handshake messages the engine has to answer (a KeyUpdate, a ticket) without waiting. */
    private void serviceEngine() throws IOException, PeerFailure {
        HandshakeStatus hs = engine.getHandshakeStatus();
        if (hs == HandshakeStatus.NEED_TASK) {
            runTasks();
        } else if (hs == HandshakeStatus.NEED_WRAP && !engine.isOutboundDone()) {
            wrap(EMPTY);
        }
    }

    /**
     * Moves decrypted bytes into dst without waiting: the count moved, 0 when none is there yet, -1
     * after the other side's close_notify, -2 when TCP ended without one.
     */
    int readSome(ByteBuffer dst) throws IOException, PeerFailure {
        while (true) {
            if (appIn.position() > 0) {
                appIn.flip();
                int n = Math.min(appIn.remaining(), dst.remaining());
                ByteBuffer slice = appIn.slice();
                slice.limit(n);
                dst.put(slice);
                appIn.position(appIn.position() + n);
                appIn.compact();
                return n;
            }
            if (closeNotifyReceived) {
                return -1;
            }
            serviceEngine();
            if (unwrap()) {
                continue;
            }
            int n = fill();
            if (n > 0) {
                continue;
            }
            if (n < 0) {
                return -2;
            }
            return 0;
        }
    }

    /** Wraps and writes what it can of src without waiting; the count of src taken. */
    int writeSome(ByteBuffer src) throws IOException, PeerFailure {
        flushSome();
        if (hasPendingOutput()) {
            return 0;
        }
        serviceEngine();
        int n = src.hasRemaining() ? wrap(src) : 0;
        flushSome();
        return n;
    }

    /** Writes all of src, waiting for the socket as needed. */
    void writeAll(ByteBuffer src, String stage) throws IOException, PeerFailure {
        while (src.hasRemaining()) {
            if (writeSome(src) == 0 && src.hasRemaining()) {
                await(false, true, stage);
            }
        }
        flushAll(stage);
    }

    /** Reads into dst, waiting for the network: count, -1 at close_notify, -2 at a bare TCP end. */
    int read(ByteBuffer dst, String stage) throws IOException, PeerFailure {
        while (true) {
            int n = readSome(dst);
            if (n != 0) {
                return n;
            }
            flushSome();
            await(true, hasPendingOutput(), stage);
        }
    }

    /** Sends close_notify (closeOutbound, then wraps until the engine is done) and writes it out. */
    void sendCloseNotify(String stage) throws IOException, PeerFailure {
        engine.closeOutbound();
        while (!engine.isOutboundDone()) {
            int before = netOut.position();
            wrap(EMPTY);
            if (netOut.position() == before && !engine.isOutboundDone()) {
                break;
            }
        }
        flushAll(stage);
    }

    /**
     * After JSSE failed, wraps what it queued (its fatal alert) and writes it, within the given
     * deadline: best effort, errors ignored.
     */
    void flushAlertAfterFailure(Deadline budget) {
        deadline = budget;
        try {
            for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
                int before = netOut.position();
                engine.wrap(EMPTY, netOut);
                noteAlert(before);
                if (netOut.position() > before && (netOut.get(before) & 0xff) == 23 && alertSent == null) {
                    alertEncrypted = true;
                }
                if (netOut.position() == before) {
                    break;
                }
            }
        } catch (SSLException e) {
            // the engine has nothing more to send
        }
        try {
            flushAll("shutdown");
        } catch (IOException | PeerFailure e) {
            // best effort
        }
    }

    /** Sends a user_canceled warning alert where JSSE lets us: closeOutbound mid-handshake does. */
    void cancelHandshake(Deadline budget) {
        deadline = budget;
        try {
            engine.closeOutbound();
            int before = netOut.position();
            engine.wrap(EMPTY, netOut);
            noteAlert(before);
            flushAll("timeout");
        } catch (IOException | PeerFailure e) {
            // best effort
        }
    }

    /** Closes TCP after a failure: half-close, drain briefly, then close, so an alert is not reset away. */
    void lingerAndClose(Deadline budget) {
        try {
            channel.shutdownOutput();
            ByteBuffer sink = ByteBuffer.allocate(16384);
            while (!budget.passed()) {
                sink.clear();
                int n = channel.read(sink);
                if (n < 0) {
                    break;
                }
                if (n == 0) {
                    key.interestOps(SelectionKey.OP_READ);
                    selector.select(Math.max(1, budget.remainingMs()));
                    selector.selectedKeys().clear();
                }
            }
        } catch (IOException e) {
            // closing anyway
        }
        close();
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException e) {
            // nothing to do
        }
        try {
            channel.close();
        } catch (ClosedChannelException e) {
            // already closed
        } catch (IOException e) {
            // nothing to do
        }
    }
}
