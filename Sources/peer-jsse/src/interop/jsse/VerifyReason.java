package interop.jsse;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.PKIXReason;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.Map;

/**
 * The protocol's verify_reason from the exception JSSE's PKIX trust manager threw, by type: the
 * CertPathValidatorException reason, the certificate validity exceptions, a CertPathBuilderException
 * (no path to a trust anchor), and the error type of sun.security.validator.ValidatorException,
 * the JDK's own exception for its end-entity checks (key usage for TLS): it is exported to this peer
 * with --add-exports and read by reflection (javac warns on any compile-time use of sun.*), since no
 * public type carries that reason.
 */
final class VerifyReason {
    private VerifyReason() {}

    /** The reason and the library code (the exception's type and reason) for a refusal. */
    record Verdict(String reason, String code) {}

    static Verdict of(CertificateException refusal, RecordingTrustManager.Check check) {
        if (check == RecordingTrustManager.Check.NO_CA) {
            return new Verdict("untrusted", "no trust anchor (no --ca)");
        }
        for (Throwable t = refusal; t != null; t = t.getCause()) {
            if (t instanceof CertificateExpiredException) {
                return new Verdict("expired", t.getClass().getName());
            }
            if (t instanceof CertificateNotYetValidException) {
                return new Verdict("not_yet_valid", t.getClass().getName());
            }
            if (t instanceof CertPathValidatorException cpve) {
                String code = "CertPathValidatorException." + cpve.getReason();
                return new Verdict(fromReason(cpve.getReason()), code);
            }
            if (t instanceof CertPathBuilderException) {
                return new Verdict("untrusted", t.getClass().getName());
            }
            Verdict validator = fromValidatorException(t);
            if (validator != null) {
                return validator;
            }
        }
        if (check == RecordingTrustManager.Check.IDENTITY && refusal.getClass() == CertificateException.class) {
            // The chain passed the same trust manager a moment before; with the engine it adds the
            // HTTPS endpoint identification (sun.security.util.HostnameChecker), which throws a
            // plain CertificateException.
            return new Verdict("name_mismatch", "endpoint identification (HTTPS)");
        }
        return new Verdict("other", refusal.getClass().getName());
    }

    /** ValidatorException's error types (its T_ constants) and the verify_reason each means. */
    private static final Map<String, String> VALIDATOR_TYPES = Map.of(
        "T_EE_EXTENSIONS", "key_usage",
        "T_CA_EXTENSIONS", "key_usage",
        "T_NO_TRUST_ANCHOR", "untrusted",
        "T_UNTRUSTED_CERT", "untrusted",
        "T_ALGORITHM_DISABLED", "signature",
        "T_SIGNATURE_ERROR", "signature",
        "T_CERT_SIGNATURE", "signature",
        "T_CERT_EXPIRED", "expired");

    private static Verdict fromValidatorException(Throwable t) {
        if (!t.getClass().getName().equals("sun.security.validator.ValidatorException")) {
            return null;
        }
        try {
            Method getErrorType = t.getClass().getMethod("getErrorType");
            Object type = getErrorType.invoke(t);
            if (type == null) {
                return null;
            }
            for (Field field : t.getClass().getFields()) {
                if (field.getName().startsWith("T_") && field.get(null) == type) {
                    String code = "ValidatorException." + field.getName();
                    return new Verdict(VALIDATOR_TYPES.getOrDefault(field.getName(), "other"), code);
                }
            }
            return new Verdict("other", "ValidatorException(" + type + ")");
        } catch (ReflectiveOperationException | RuntimeException e) {
            return new Verdict("other", "ValidatorException (type not readable: " + e + ")");
        }
    }

    private static String fromReason(CertPathValidatorException.Reason reason) {
        if (reason == CertPathValidatorException.BasicReason.EXPIRED) {
            return "expired";
        }
        if (reason == CertPathValidatorException.BasicReason.NOT_YET_VALID) {
            return "not_yet_valid";
        }
        if (reason == CertPathValidatorException.BasicReason.INVALID_SIGNATURE
            || reason == CertPathValidatorException.BasicReason.ALGORITHM_CONSTRAINED) {
            return "signature";
        }
        if (reason == PKIXReason.NO_TRUST_ANCHOR || reason == PKIXReason.NOT_CA_CERT) {
            return "untrusted";
        }
        if (reason == PKIXReason.INVALID_KEY_USAGE) {
            return "key_usage";
        }
        return "other";
    }
}
