package interop.jsse;

import java.util.LinkedHashMap;
import java.util.Map;

/** Why a cell failed: the stage the protocol names and what JSSE or the OS said. */
final class PeerFailure extends Exception {
    private static final long serialVersionUID = 1L;

    final String stage;
    Integer alert;
    String alertDirection;
    String libraryCode;
    String verifyReason;
    /**
     * True when this peer, not JSSE, found the fault (an echo that differs, a deadline): JSSE sent
     * no alert, so a close_notify (or user_canceled during a handshake) may still go out.
     */
    boolean ours;

    PeerFailure(String stage, String message) {
        super(message);
        this.stage = stage;
    }

    PeerFailure(String stage, String message, Throwable cause) {
        super(message, cause);
        this.stage = stage;
    }

    static PeerFailure ours(String stage, String message) {
        PeerFailure f = new PeerFailure(stage, message);
        f.ours = true;
        return f;
    }

    Map<String, Object> json() {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("stage", stage);
        e.put("alert", alert == null ? null : TlsAlert.name(alert));
        e.put("alert_code", alert);
        e.put("alert_direction", alert == null ? null : alertDirection);
        e.put("library_code", libraryCode);
        e.put("verify_reason", stage.equals("verify") ? verifyReason : null);
        e.put("message", getMessage());
        return e;
    }
}
