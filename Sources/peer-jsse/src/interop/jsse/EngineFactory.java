package interop.jsse;

import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.TrustManager;

/**
 * One cell's JSSE configuration: a fresh SSLContext (its session cache and ticket key shared by
 * the cell's connections and no other), the key and trust managers, and the SSLParameters every
 * engine of the cell gets: versions, the suite, ALPN, SNI and the host name check, client auth.
 */
final class EngineFactory {
    final SSLContext context;
    final RecordingTrustManager trust;
    private final PeerRequest req;
    private final String[] protocols;
    private final String[] suites;

    private EngineFactory(SSLContext context, RecordingTrustManager trust, PeerRequest req, String[] protocols, String[] suites) {
        this.context = context;
        this.trust = trust;
        this.req = req;
        this.protocols = protocols;
        this.suites = suites;
    }

    static EngineFactory create(PeerRequest req) throws PeerFailure, Unsupported {
        SSLContext context;
        try {
            context = SSLContext.getInstance("TLS");
        } catch (Exception e) {
            throw new PeerFailure("setup", "SSLContext.getInstance(\"TLS\"): " + e, e);
        }
        OwnCertificate own = req.certPath == null ? null : OwnCertificate.load(req.certPath, req.keyPath, "--cert/--key");
        OwnCertificate alt = req.altName == null ? null : OwnCertificate.load(req.altCertPath, req.altKeyPath, "--alt-cert/--alt-key");
        RecordingTrustManager trust = RecordingTrustManager.load(req.caPath);
        try {
            context.init(new KeyManager[] {new SniKeyManager(own, alt, req.altName)}, new TrustManager[] {trust}, null);
        } catch (Exception e) {
            throw new PeerFailure("setup", "SSLContext.init: " + e, e);
        }
        SSLEngine probe = context.createSSLEngine();
        List<String> supported = Arrays.asList(probe.getSupportedCipherSuites());
        String[] protocols = null;
        if (req.version != null) {
            String protocol = NegotiatedView.protocolName(req.version);
            if (!Arrays.asList(probe.getSupportedProtocols()).contains(protocol)) {
                throw new Unsupported("JSSE does not implement " + req.version);
            }
            protocols = new String[] {protocol};
        }
        String[] suites = null;
        if (req.suite != null) {
            CipherSuiteCodes.Entry entry = CipherSuiteCodes.byCode(req.suite);
            if (entry == null) {
                throw new Unsupported(String.format("SunJSSE does not implement suite 0x%04X", req.suite));
            }
            if (!supported.contains(entry.jsseName())) {
                throw new Unsupported(entry.jsseName() + " is refused by this JVM's jdk.tls.disabledAlgorithms"
                    + (req.legacy ? " even with --legacy" : " (try --legacy)"));
            }
            suites = new String[] {entry.jsseName()};
        }
        return new EngineFactory(context, trust, req, protocols, suites);
    }

    /** An engine for one connection; a client's is keyed by --server-name and the port (JSSE's session cache key). */
    SSLEngine engine() throws PeerFailure {
        SSLEngine engine = req.role.equals("client")
            ? context.createSSLEngine(req.serverName, req.port)
            : context.createSSLEngine();
        engine.setUseClientMode(req.role.equals("client"));
        SSLParameters p = engine.getSSLParameters();
        if (protocols != null) {
            p.setProtocols(protocols);
        }
        if (suites != null) {
            p.setCipherSuites(suites);
        }
        if (!req.alpn.isEmpty()) {
            p.setApplicationProtocols(req.alpn.toArray(new String[0]));
        }
        if (req.role.equals("client")) {
            p.setEndpointIdentificationAlgorithm("HTTPS");
            if (isAddressLiteral(req.serverName)) {
                // RFC 6066 §3: no IP literal in SNI; HTTPS identification then checks iPAddress SANs.
                p.setServerNames(List.of());
            } else {
                try {
                    p.setServerNames(List.of(new SNIHostName(req.serverName)));
                } catch (IllegalArgumentException e) {
                    throw new PeerFailure("setup", "--server-name " + req.serverName + ": " + e.getMessage(), e);
                }
            }
        } else if (req.clientAuth.equals("required")) {
            p.setNeedClientAuth(true);
        } else if (req.clientAuth.equals("optional")) {
            p.setWantClientAuth(true);
        }
        engine.setSSLParameters(p);
        return engine;
    }

    /** Whether a name is an IPv4 or IPv6 address literal, as inet_pton would read it. */
    static boolean isAddressLiteral(String name) {
        if (name.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            return true;
        }
        if (name.contains(":") && name.matches("[0-9A-Fa-f:.]+")) {
            try {
                InetAddress.getByName(name);
                return true;
            } catch (java.net.UnknownHostException e) {
                return false;
            }
        }
        return false;
    }
}
