package interop.jsse;

import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.security.auth.x500.X500Principal;

/** What one connection agreed on, read back from the SSLEngine and its SSLSession. */
final class NegotiatedView {
    private NegotiatedView() {}

    static String versionName(String protocol) {
        return switch (protocol) {
            case "TLSv1" -> "TLS1.0";
            case "TLSv1.1" -> "TLS1.1";
            case "TLSv1.2" -> "TLS1.2";
            case "TLSv1.3" -> "TLS1.3";
            default -> null;
        };
    }

    static String protocolName(String version) {
        return switch (version) {
            case "TLS1.0" -> "TLSv1";
            case "TLS1.1" -> "TLSv1.1";
            case "TLS1.2" -> "TLSv1.2";
            default -> "TLSv1.3";
        };
    }

    /**
     * The view of a finished handshake. {@code resumed}: JSSE 17 has no call that says so; a session
     * it resumed is the one an earlier handshake created (its creation time is before this
     * handshake began), a full handshake creates a new one.
     */
    static Map<String, Object> read(SSLEngine engine, String role, long handshakeStartMillis) {
        SSLSession s = engine.getSession();
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("version", versionName(s.getProtocol()));
        String suite = s.getCipherSuite();
        CipherSuiteCodes.Entry entry = CipherSuiteCodes.byJsseName(suite);
        v.put("suite", entry == null ? null : entry.ianaName());
        v.put("suite_code", entry == null ? null : String.format("0x%04X", entry.code()));
        v.put("library_suite", suite);
        // JSSE 17 keeps the negotiated named group and the handshake's signature scheme in no
        // public field (ExtendedSSLSession lists only the schemes each side offered).
        v.put("group", null);
        v.put("signature_scheme", null);
        String alpn = engine.getApplicationProtocol();
        v.put("alpn", alpn == null || alpn.isEmpty() ? null : alpn);
        v.put("resumed", s.getCreationTime() < handshakeStartMillis);
        v.put("peer_certificate", peerSubject(s));
        if (role.equals("server")) {
            v.put("server_name", SniKeyManager.requestedHostName(s));
        }
        List<String> notReadable = new ArrayList<>(List.of("group", "signature_scheme"));
        v.put("not_readable", notReadable);
        return v;
    }

    /** The subject of the other side's certificate, RFC 4514 order (RFC 2253 output), null if none. */
    static String peerSubject(SSLSession s) {
        try {
            Certificate[] chain = s.getPeerCertificates();
            if (chain.length > 0 && chain[0] instanceof X509Certificate x) {
                return x.getSubjectX500Principal().getName(X500Principal.RFC2253);
            }
        } catch (SSLPeerUnverifiedException e) {
            // none presented
        }
        return null;
    }
}
