package interop.jsse;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;

/** A certificate chain and its private key, loaded from --cert/--key (or --alt-cert/--alt-key). */
record OwnCertificate(List<X509Certificate> chain, PrivateKey key) {
    static OwnCertificate load(String certPath, String keyPath, String what) throws PeerFailure {
        try {
            List<X509Certificate> chain = PemFiles.certificates(certPath);
            PrivateKey key = PemFiles.privateKey(keyPath);
            PemFiles.checkPair(key, chain.get(0));
            return new OwnCertificate(chain, key);
        } catch (Exception e) {
            throw new PeerFailure("setup", "loading " + what + ": " + e, e);
        }
    }

    /**
     * Whether JSSE may use this key for a key type it asks for ("RSA", "EC", "EdDSA", "RSASSA-PSS";
     * older TLS 1.2 code asks for "EC_EC" or "RSA_EC" style pairs, the key's part first).
     */
    boolean fits(String keyType) {
        String wanted = keyType.contains("_") ? keyType.substring(0, keyType.indexOf('_')) : keyType;
        String have = key.getAlgorithm();
        if (have.equals("Ed25519") || have.equals("Ed448")) {
            have = "EdDSA";
        }
        return wanted.equals(have);
    }
}
