package interop.jsse;

import java.net.Socket;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.CertPathTrustManagerParameters;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * JSSE's own PKIX trust manager over --ca (revocation off), wrapped to keep the exception it threw:
 * JSSE turns it into an alert and an SSLHandshakeException, and the verify_reason is read from the
 * exception's type ({@link VerifyReason}). The server certificate is checked in two calls of the same
 * trust manager: the chain alone, then with the engine (which adds the HTTPS host name check), so a
 * failure of only the second is the host name. Without --ca it trusts nothing.
 */
final class RecordingTrustManager extends X509ExtendedTrustManager {
    /** Which check refused the certificate. */
    enum Check { CHAIN, IDENTITY, NO_CA }

    private final X509ExtendedTrustManager pkix;
    volatile CertificateException refusal;
    volatile Check refusedBy;
    volatile boolean called;

    private RecordingTrustManager(X509ExtendedTrustManager pkix) {
        this.pkix = pkix;
    }

    static RecordingTrustManager load(String caPath) throws PeerFailure {
        if (caPath == null) {
            return new RecordingTrustManager(null);
        }
        try {
            List<X509Certificate> roots = PemFiles.certificates(caPath);
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            for (int i = 0; i < roots.size(); i++) {
                store.setCertificateEntry("ca" + i, roots.get(i));
            }
            PKIXBuilderParameters parameters = new PKIXBuilderParameters(store, new X509CertSelector());
            parameters.setRevocationEnabled(false);
            TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
            factory.init(new CertPathTrustManagerParameters(parameters));
            for (TrustManager tm : factory.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager extended) {
                    return new RecordingTrustManager(extended);
                }
            }
            throw new PeerFailure("setup", "the PKIX TrustManagerFactory gave no X509ExtendedTrustManager");
        } catch (PeerFailure f) {
            throw f;
        } catch (Exception e) {
            throw new PeerFailure("setup", "loading --ca: " + e, e);
        }
    }

    private CertificateException refuse(CertificateException e, Check check) {
        if (refusal == null) {
            refusal = e;
            refusedBy = check;
        }
        return e;
    }

    private void requireCa() throws CertificateException {
        called = true;
        if (pkix == null) {
            throw refuse(new CertificateException("no --ca given: this peer trusts no certificate"), Check.NO_CA);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        requireCa();
        try {
            pkix.checkServerTrusted(chain, authType);
        } catch (CertificateException e) {
            throw refuse(e, Check.CHAIN);
        }
        try {
            pkix.checkServerTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw refuse(e, Check.IDENTITY);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        requireCa();
        try {
            pkix.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw refuse(e, Check.CHAIN);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("this peer uses SSLEngine only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("this peer uses SSLEngine only");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this peer uses SSLEngine only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("this peer uses SSLEngine only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix == null ? new X509Certificate[0] : pkix.getAcceptedIssuers();
    }
}
