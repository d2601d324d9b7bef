package interop.jsse;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;

/** One peer's connections for one request, server or client, from socket to close_notify. */
final class Cell {
    private static final int ECHO_LIMIT = 65536;

    private final PeerRequest req;
    private final CellOutput out;
    private final Deadline deadline;
    private final List<Map<String, Object>> views = new ArrayList<>();
    private Exchange exchange = new Exchange();
    private Double handshakeMs;
    private EngineFactory factory;

    Cell(PeerRequest req, CellOutput out, long startNanos) {
        this.req = req;
        this.out = out;
        this.deadline = new Deadline(startNanos, req.timeoutMs);
    }

    /** Runs the request and prints its result line; returns the exit code. */
    int run() {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("event", "result");
        result.put("role", req.role);
        result.put("library", PeerJsse.library());
        int code;
        try {
            if (req.keyUpdate && "TLS1.2".equals(req.version)) {
                throw new Unsupported("a KeyUpdate is TLS 1.3 only");
            }
            if (req.keylogPath != null) {
                out.log("--keylog " + req.keylogPath + ": JSSE has no key log export; nothing written");
            }
            factory = EngineFactory.create(req);
            if (req.role.equals("server")) {
                serve();
            } else {
                connect();
            }
            result.put("status", "ok");
            result.put("reason", null);
            out.log("done: handshake, echo and close_notify both ways");
            code = 0;
        } catch (Unsupported u) {
            result.put("status", "unsupported");
            result.put("reason", u.getMessage());
            out.log("unsupported: " + u.getMessage());
            code = 3;
        } catch (PeerFailure f) {
            result.put("status", "failed");
            result.put("reason", null);
            result.put("error", f.json());
            String line = "failed at " + f.stage + ": " + f.getMessage();
            if (f.alert != null) {
                line += " (alert " + TlsAlert.name(f.alert) + " " + f.alertDirection + ")";
            }
            out.log(line);
            code = 1;
        }
        if (!views.isEmpty()) {
            result.put("view", views.get(views.size() - 1));
            if (views.size() > 1) {
                result.put("views", views);
            }
            result.put("exchange", exchange.json());
        }
        if (!result.containsKey("error")) {
            result.put("error", null);
        }
        result.put("handshake_ms", handshakeMs);
        out.finish(result);
        return code;
    }

    private void serve() throws PeerFailure {
        try (ServerSocketChannel listener = ServerSocketChannel.open(); Selector selector = Selector.open()) {
            listener.bind(new InetSocketAddress("127.0.0.1", 0));
            listener.configureBlocking(false);
            listener.register(selector, SelectionKey.OP_ACCEPT);
            int port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
            out.listening(port);
            out.log("jsse " + PeerJsse.library().get("version") + " server listening on 127.0.0.1:" + port);
            for (int i = 0; i < req.connections(); i++) {
                SocketChannel tcp;
                while ((tcp = listener.accept()) == null) {
                    long left = deadline.remainingMs();
                    if (left <= 0) {
                        throw deadline.timeout("tcp_accept");
                    }
                    selector.select(left);
                    selector.selectedKeys().clear();
                }
                serveOne(tcp);
            }
        } catch (IOException e) {
            throw new PeerFailure("tcp_accept", e.toString(), e);
        }
    }

    private void connect() throws PeerFailure {
        for (int i = 0; i < req.connections(); i++) {
            SocketChannel tcp;
            try {
                tcp = SocketChannel.open();
                tcp.configureBlocking(false);
                try (Selector selector = Selector.open()) {
                    if (!tcp.connect(new InetSocketAddress("127.0.0.1", req.port))) {
                        tcp.register(selector, SelectionKey.OP_CONNECT);
                        while (!tcp.finishConnect()) {
                            long left = deadline.remainingMs();
                            if (left <= 0) {
                                tcp.close();
                                throw deadline.timeout("tcp_connect");
                            }
                            selector.select(left);
                            selector.selectedKeys().clear();
                        }
                    }
                    tcp.keyFor(selector);
                }
            } catch (ConnectException e) {
                // finishConnect's ConnectException is the kernel's ECONNREFUSED (SO_ERROR).
                PeerFailure f = new PeerFailure("tcp_connect", e.toString(), e);
                f.libraryCode = "ECONNREFUSED";
                throw f;
            } catch (IOException e) {
                throw new PeerFailure("tcp_connect", e.toString(), e);
            }
            out.log("jsse client connected to 127.0.0.1:" + req.port);
            connectOne(tcp);
        }
    }

    private void serveOne(SocketChannel tcp) throws PeerFailure {
        TlsChannel tls = open(tcp);
        exchange = new Exchange();
        boolean established = false;
        try {
            handshake(tls);
            established = true;
            if (req.transfer > 0) {
                new Transfer(tls, exchange, req.transfer).echo();
            } else {
                byte[] line = readLine(tls);
                byte[] reply = new byte[line.length + 6];
                System.arraycopy(line, 0, reply, 0, line.length);
                System.arraycopy(" pong\n".getBytes(StandardCharsets.US_ASCII), 0, reply, line.length, 6);
                write(tls, reply);
            }
            // The client closes first; answer its close_notify with ours.
            awaitCloseNotify(tls);
            tls.sendCloseNotify("shutdown");
            tls.close();
        } catch (PeerFailure | IOException e) {
            PeerFailure f = classify(e, established ? "data" : "handshake", tls);
            end(tls, established, f);
            throw f;
        }
    }

    private void connectOne(SocketChannel tcp) throws PeerFailure {
        TlsChannel tls = open(tcp);
        exchange = new Exchange();
        boolean established = false;
        try {
            handshake(tls);
            established = true;
            if (req.keyUpdate) {
                keyUpdate(tls);
            }
            if (req.transfer > 0) {
                new Transfer(tls, exchange, req.transfer).send();
            } else {
                write(tls, (req.message + "\n").getBytes(StandardCharsets.UTF_8));
                byte[] echoed = readLine(tls);
                String mismatch = EchoCheck.mismatch((req.message + " pong").getBytes(StandardCharsets.UTF_8), echoed);
                if (mismatch != null) {
                    throw PeerFailure.ours("data", mismatch);
                }
            }
            if (req.truncate) {
                out.log("closing without close_notify, as asked");
                tls.close();
                return;
            }
            tls.sendCloseNotify("shutdown");
            awaitCloseNotify(tls);
            tls.close();
        } catch (PeerFailure | IOException e) {
            PeerFailure f = classify(e, established ? "data" : "handshake", tls);
            end(tls, established, f);
            throw f;
        }
    }

    private TlsChannel open(SocketChannel tcp) throws PeerFailure {
        SSLEngine engine = factory.engine();
        try {
            return new TlsChannel(tcp, engine, deadline);
        } catch (IOException e) {
            throw new PeerFailure("setup", e.toString(), e);
        }
    }

    private void handshake(TlsChannel tls) throws IOException, PeerFailure {
        long startNanos = System.nanoTime();
        long startMillis = System.currentTimeMillis();
        tls.handshake();
        handshakeMs = (System.nanoTime() - startNanos) / 1e6;
        Map<String, Object> v = NegotiatedView.read(tls.engine, req.role, startMillis);
        views.add(v);
        out.log(String.format("handshake done: %s %s peer %s%s", v.get("version"), v.get("library_suite"),
            v.get("peer_certificate"), Boolean.TRUE.equals(v.get("resumed")) ? " (resumed)" : ""));
    }

    /**
     * JSSE 17 has no KeyUpdate call of its own; SSLEngine.beginHandshake on an established TLS 1.3
     * connection is its way to send one (sun.security.ssl KeyUpdate's kickstart producer, with
     * update_requested), since TLS 1.3 has no renegotiation.
     */
    private void keyUpdate(TlsChannel tls) throws IOException, PeerFailure {
        if (!"TLSv1.3".equals(tls.engine.getSession().getProtocol())) {
            throw PeerFailure.ours("data", "--key-update needs TLS 1.3; negotiated " + tls.engine.getSession().getProtocol());
        }
        tls.engine.beginHandshake();
        tls.driveHandshake("data");
        out.log("KeyUpdate sent (SSLEngine.beginHandshake)");
    }

    private void write(TlsChannel tls, byte[] bytes) throws IOException, PeerFailure {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        tls.writeAll(b, "data");
        exchange.sent(b, 0);
    }

    /** Reads up to and excluding the first newline. */
    private byte[] readLine(TlsChannel tls) throws IOException, PeerFailure {
        ByteBuffer received = ByteBuffer.allocate(ECHO_LIMIT + 16384);
        while (true) {
            int from = received.position();
            int n = tls.read(received, "data");
            if (n > 0) {
                exchange.received(received, from);
                for (int i = from; i < received.position(); i++) {
                    if (received.get(i) == '\n') {
                        byte[] line = new byte[i];
                        received.get(0, line);
                        return line;
                    }
                }
                if (received.position() > ECHO_LIMIT) {
                    throw PeerFailure.ours("data", "no newline in 64 KiB of data");
                }
                continue;
            }
            if (n == -2) {
                throw PeerFailure.ours("data", "the stream ended without close_notify before a full line (" + received.position() + " bytes)");
            }
            throw PeerFailure.ours("data", "peer sent close_notify before a full line (" + received.position() + " bytes)");
        }
    }

    /** Reads until the other side's close_notify; data or a bare TCP end instead is a shutdown failure. */
    private void awaitCloseNotify(TlsChannel tls) throws IOException, PeerFailure {
        ByteBuffer chunk = ByteBuffer.allocate(17 * 1024);
        int n = tls.read(chunk, "shutdown");
        if (n > 0) {
            throw new PeerFailure("shutdown", "expected close_notify, got " + n + " more bytes of data");
        }
        if (n == -2) {
            throw new PeerFailure("shutdown", "the stream ended without close_notify (a truncation, RFC 8446 §6.1)");
        }
    }

    /**
     * Ends a failed connection: JSSE's own fatal alert when JSSE failed (wrapped after the exception,
     * as SSLEngine requires), close_notify after a fault this peer found past the handshake,
     * user_canceled (JSSE's closeOutbound mid-handshake) at a handshake deadline; then TCP, lingering
     * so the alert is not lost to a reset. At most 250 ms, never past the deadline.
     */
    private void end(TlsChannel tls, boolean established, PeerFailure f) {
        Deadline budget = deadline.capped(250);
        if (!f.ours) {
            tls.flushAlertAfterFailure(budget);
        } else if (established) {
            try {
                tls.deadline = budget;
                tls.sendCloseNotify("shutdown");
                out.log("close_notify sent after the failure");
            } catch (IOException | PeerFailure e) {
                out.log("no close_notify after the failure: " + e.getMessage());
            }
        } else if (f.stage.equals("timeout")) {
            tls.cancelHandshake(budget);
            out.log("user_canceled sent: the handshake did not finish in time");
        }
        tls.lingerAndClose(budget);
    }

    /**
     * The protocol's failure for what JSSE or the socket threw: a certificate the trust manager
     * refused (its exception's type gives the verify_reason), an alert JSSE received or sent, a
     * socket error.
     */
    private PeerFailure classify(Exception e, String stage, TlsChannel tls) {
        PeerFailure f;
        RecordingTrustManager trust = factory.trust;
        if (e instanceof PeerFailure pf) {
            f = pf;
        } else if (trust.refusal != null) {
            VerifyReason.Verdict verdict = VerifyReason.of(trust.refusal, trust.refusedBy);
            f = new PeerFailure("verify", trust.refusal.getMessage() + " (JSSE: " + e.getMessage() + ")", e);
            f.verifyReason = verdict.reason();
            f.libraryCode = verdict.code();
        } else if (e instanceof SSLException ssl) {
            f = new PeerFailure(stage, e.getClass().getSimpleName() + ": " + ssl.getMessage(), e);
            f.libraryCode = e.getClass().getName();
            // JSSE puts a received alert only in its message: TransportContext.fatal is called with
            // "Received fatal alert: " + the alert's name, and the exception has no field for it.
            String prefix = "Received fatal alert: ";
            String message = ssl.getMessage() == null ? "" : ssl.getMessage();
            if (message.startsWith(prefix)) {
                f.alert = TlsAlert.code(message.substring(prefix.length()).strip());
                f.alertDirection = "received";
            }
            // A server that needs a client certificate and got an empty Certificate message: JSSE's
            // CertificateMessage consumers throw this text, with no type or field of their own.
            if (req.role.equals("server") && req.clientAuth.equals("required") && !trust.called
                && message.contains("Empty client certificate chain")) {
                f = new PeerFailure("verify", f.getMessage(), e);
                f.verifyReason = "no_certificate";
                f.libraryCode = e.getClass().getName();
            }
        } else {
            f = new PeerFailure(stage, e.toString(), e);
            f.libraryCode = e.getClass().getName();
        }
        if (f.alert == null && !f.ours) {
            // What JSSE queued after the failure: wrap it now and read it where it is in the clear.
            tls.flushAlertAfterFailure(deadline.capped(250));
            if (tls.alertSent != null) {
                f.alert = tls.alertSent;
                f.alertDirection = "sent";
            }
        }
        return f;
    }
}
