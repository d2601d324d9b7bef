package interop.jsse;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * This side's certificate for JSSE: the main one, or, on a server given --alt-*, the alternative one
 * for a client whose SNI is --alt-name (read from the handshake session JSSE is building). A client
 * presents its certificate whenever asked, whatever CAs the server names: the server judges it.
 */
final class SniKeyManager extends X509ExtendedKeyManager {
    private static final String MAIN = "main";
    private static final String ALT = "alt";

    private final OwnCertificate main;
    private final OwnCertificate alt;
    private final String altName;

    SniKeyManager(OwnCertificate main, OwnCertificate alt, String altName) {
        this.main = main;
        this.alt = alt;
        this.altName = altName;
    }

    private OwnCertificate byAlias(String alias) {
        if (MAIN.equals(alias)) {
            return main;
        }
        if (ALT.equals(alias)) {
            return alt;
        }
        return null;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        String alias = MAIN;
        if (alt != null && altName.equalsIgnoreCase(requestedHostName(engine))) {
            alias = ALT;
        }
        OwnCertificate chosen = byAlias(alias);
        return chosen != null && chosen.fits(keyType) ? alias : null;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        if (main == null) {
            return null;
        }
        for (String keyType : keyTypes) {
            if (main.fits(keyType)) {
                return MAIN;
            }
        }
        return null;
    }

    /** The SNI host name the client sent, from the session JSSE is negotiating; null if none. */
    static String requestedHostName(SSLEngine engine) {
        SSLSession session = engine.getHandshakeSession();
        if (session == null) {
            session = engine.getSession();
        }
        return requestedHostName(session);
    }

    static String requestedHostName(SSLSession session) {
        if (!(session instanceof ExtendedSSLSession extended)) {
            return null;
        }
        List<SNIServerName> names = extended.getRequestedServerNames();
        for (SNIServerName name : names) {
            if (name.getType() == StandardConstants.SNI_HOST_NAME) {
                return name instanceof SNIHostName host ? host.getAsciiName()
                    : new SNIHostName(name.getEncoded()).getAsciiName();
            }
        }
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return main != null && main.fits(keyType) ? new String[] {MAIN} : null;
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return chooseEngineClientAlias(keyTypes, issuers, null);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return main != null && main.fits(keyType) ? new String[] {MAIN} : null;
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return main != null && main.fits(keyType) ? MAIN : null;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        OwnCertificate c = byAlias(alias);
        return c == null ? null : c.chain().toArray(new X509Certificate[0]);
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        OwnCertificate c = byAlias(alias);
        return c == null ? null : c.key();
    }
}
