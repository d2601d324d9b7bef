package interop.jsse;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Reads the runner's PEM certificates and PKCS#8 PEM private keys with the JDK alone. */
final class PemFiles {
    private PemFiles() {}

    /** The key algorithms a PKCS#8 key may be in, as the JDK's KeyFactory names them. */
    private static final List<String> KEY_ALGORITHMS = List.of("RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS");

    static List<X509Certificate> certificates(String path) throws IOException, CertificateException {
        byte[] pem = Files.readAllBytes(Path.of(path));
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        for (var c : factory.generateCertificates(new ByteArrayInputStream(pem))) {
            out.add((X509Certificate) c);
        }
        if (out.isEmpty()) {
            throw new CertificateException(path + ": no PEM certificate in it");
        }
        return out;
    }

    static PrivateKey privateKey(String path) throws IOException, GeneralSecurityException {
        String text = Files.readString(Path.of(path), StandardCharsets.US_ASCII);
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b < 0 || e < b) {
            throw new GeneralSecurityException(path + ": no PKCS#8 PEM key (-----BEGIN PRIVATE KEY-----) in it");
        }
        byte[] der = Base64.getMimeDecoder().decode(text.substring(b + begin.length(), e));
        GeneralSecurityException last = null;
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (GeneralSecurityException ex) {
                last = ex;
            }
        }
        throw new GeneralSecurityException(path + ": no KeyFactory reads this PKCS#8 key: " + last.getMessage(), last);
    }

    /** Throws unless the key signs what the certificate's public key verifies (the pair matches). */
    static void checkPair(PrivateKey key, X509Certificate cert) throws GeneralSecurityException {
        String algorithm = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "EdDSA", "Ed25519", "Ed448" -> "EdDSA";
            case "RSASSA-PSS" -> "RSASSA-PSS";
            default -> throw new GeneralSecurityException("unexpected key algorithm " + key.getAlgorithm());
        };
        byte[] probe = "interop-matrix key check".getBytes(StandardCharsets.US_ASCII);
        Signature signer = Signature.getInstance(algorithm);
        if (algorithm.equals("RSASSA-PSS")) {
            signer.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
        }
        signer.initSign(key);
        signer.update(probe);
        byte[] signature = signer.sign();
        PublicKey pub = cert.getPublicKey();
        Signature verifier = Signature.getInstance(algorithm);
        if (algorithm.equals("RSASSA-PSS")) {
            verifier.setParameter(new java.security.spec.PSSParameterSpec("SHA-256", "MGF1",
                java.security.spec.MGF1ParameterSpec.SHA256, 32, 1));
        }
        try {
            verifier.initVerify(pub);
            verifier.update(probe);
            if (verifier.verify(signature)) {
                return;
            }
        } catch (GeneralSecurityException e) {
            throw new GeneralSecurityException("the key does not match the certificate: " + e.getMessage(), e);
        }
        throw new GeneralSecurityException("the key does not match the certificate "
            + cert.getSubjectX500Principal().getName());
    }
}
