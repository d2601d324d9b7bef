package interop.jsse;

import java.util.Map;
import java.util.TreeMap;

/** TLS alert descriptions by code, spelled as RFC 8446 §6 / RFC 5246 §7.2 (and JSSE's Alert enum) do. */
final class TlsAlert {
    private TlsAlert() {}

    static final int CLOSE_NOTIFY = 0;
    static final int USER_CANCELED = 90;

    private static final Map<Integer, String> NAMES = new TreeMap<>();
    static {
        Object[] table = {
            0, "close_notify", 10, "unexpected_message", 20, "bad_record_mac", 21, "decryption_failed",
            22, "record_overflow", 30, "decompression_failure", 40, "handshake_failure", 41, "no_certificate",
            42, "bad_certificate", 43, "unsupported_certificate", 44, "certificate_revoked",
            45, "certificate_expired", 46, "certificate_unknown", 47, "illegal_parameter", 48, "unknown_ca",
            49, "access_denied", 50, "decode_error", 51, "decrypt_error", 60, "export_restriction",
            70, "protocol_version", 71, "insufficient_security", 80, "internal_error",
            86, "inappropriate_fallback", 90, "user_canceled", 100, "no_renegotiation",
            109, "missing_extension", 110, "unsupported_extension", 111, "certificate_unobtainable",
            112, "unrecognized_name", 113, "bad_certificate_status_response", 114, "bad_certificate_hash_value",
            115, "unknown_psk_identity", 116, "certificate_required", 120, "no_application_protocol",
        };
        for (int i = 0; i < table.length; i += 2) {
            NAMES.put((Integer) table[i], (String) table[i + 1]);
        }
    }

    static String name(int code) {
        return NAMES.getOrDefault(code, "alert " + code);
    }

    /** The code of a description as JSSE spells it, or null for a name not in the table. */
    static Integer code(String name) {
        for (Map.Entry<Integer, String> e : NAMES.entrySet()) {
            if (e.getValue().equals(name)) {
                return e.getKey();
            }
        }
        return null;
    }
}
