import Foundation
import PeerKit

/// Decides a cell's outcome from what both peers reported, against the cell's expectation.
/// Every pass rests on values the peers read back from their own libraries.
enum Verdict {
    static func judge(_ cell: Cell, server: PeerExit, client: PeerExit?, durationMs: Double) -> CellResult {
        var result = CellResult(cell: cell, outcome: .error, durationMs: durationMs)
        result.serverError = server.result?.error.map { ReportError(side: .server, $0) }
        result.clientError = client?.result?.error.map { ReportError(side: .client, $0) }
        result.serverView = ReportView(server.result)
        result.clientView = ReportView(client?.result)
        result.handshakeMs = client?.result?.handshakeMs ?? server.result?.handshakeMs

        let decided = decide(cell, server: server, client: client, result: &result)
        result.outcome = decided.outcome
        result.reason = decided.reason
        if decided.outcome == .unsupported {
            result.serverView = nil
            result.clientView = nil
            result.handshakeMs = nil
        }
        if decided.outcome != .pass && decided.outcome != .unsupported {
            var logs: [String: String] = [:]
            if !server.log.isEmpty { logs["server"] = String(server.log.suffix(4096)) }
            if let client, !client.log.isEmpty { logs["client"] = String(client.log.suffix(4096)) }
            result.logs = logs.isEmpty ? nil : logs
        }
        return result
    }

    private typealias Decision = (outcome: Outcome, reason: String?)

    private static func decide(_ cell: Cell, server: PeerExit, client: PeerExit?, result: inout CellResult) -> Decision {
        let sides: [(ReportError.Side, PeerExit, String)] = [(.server, server, cell.server)] + (client.map { [(.client, $0, cell.client)] } ?? [])

        // A peer that died on its own, or ended without the protocol's result line, crashed.
        for (side, exit, library) in sides {
            if case .signaled(let signal) = exit.termination, !exit.killedAtDeadline, !exit.killedAfterPartner, !exit.killedForViolations {
                result.error = ReportError(side: side, stage: "crash", message: "peer-\(library) was killed by \(signalName(signal))")
                return (.crash, "\(side.rawValue) peer-\(library) crashed (\(signalName(signal)))")
            }
            if case .exited(let code) = exit.termination, exit.result == nil, code != PeerProtocol.ExitCode.usage.rawValue {
                let said = exit.protocolViolations.first.map { "; printed \"\($0.prefix(120))\"" } ?? ""
                result.error = ReportError(side: side, stage: "crash", message: "peer-\(library) exited with status \(code) without a result line\(said)")
                return (.crash, "\(side.rawValue) peer-\(library) exited with status \(code) without reporting a result")
            }
        }
        // A peer the runner had to kill at the cell deadline hung.
        for (side, exit, library) in sides where exit.killedAtDeadline {
            result.error = ReportError(side: side, stage: "timeout", message: "peer-\(library) was still running at the cell timeout and was killed with its process group")
            return (.timeout, "\(side.rawValue) peer-\(library) did not finish before the cell timeout")
        }
        // What a peer would not try was decided before any byte was sent.
        for (side, exit, library) in sides where exit.result?.status == .unsupported {
            return (.unsupported, "\(side.rawValue) \(library): \(exit.result?.reason ?? "unsupported")")
        }
        // A peer that rejected its command line, or said things outside the protocol, is a harness error.
        for (side, exit, library) in sides {
            if case .exited(let code) = exit.termination, code == PeerProtocol.ExitCode.usage.rawValue {
                let message = exit.log.split(separator: "\n").last.map(String.init) ?? "usage error"
                result.error = ReportError(side: .runner, stage: "setup", message: "peer-\(library) rejected its arguments: \(message)")
                return (.error, "\(side.rawValue) peer-\(library) rejected the runner's arguments: \(message)")
            }
            if let violation = exit.protocolViolations.first {
                let stopped = exit.killedForViolations ? " (stopped after \(exit.protocolViolations.count) such lines)" : ""
                result.error = ReportError(side: side, stage: "crash", message: "peer-\(library) broke the peer protocol: \(violation)\(stopped)")
                return (.error, "\(side.rawValue) peer-\(library) printed something that is not the peer protocol\(stopped)")
            }
        }
        guard let client, let clientResult = client.result else {
            result.error = result.serverError ?? ReportError(side: .runner, stage: "setup", message: "the server ended without listening")
            return (.fail, result.error.map(summary) ?? "the client never started")
        }
        guard let serverResult = server.result else {
            // The server had to be stopped after its client ended. If the client failed, its error
            // says why (a refused connect, say); if it succeeded, the server hung.
            if let clientError = result.clientError, clientResult.status == .failed {
                result.error = clientError
                return (.fail, summary(clientError) + "; the server was stopped after the client ended")
            }
            result.error = ReportError(side: .server, stage: "timeout", message: "peer-\(cell.server) did not end within \(PeerProcess.partnerGrace) after its client finished")
            return (.timeout, "server peer-\(cell.server) hung after its client finished")
        }

        if cell.expect.truncatedByClient {
            return judgeTruncation(cell, serverResult, clientResult, result: &result)
        }
        if cell.expect.connectionBroken {
            return judgeBrokenConnection(cell, serverResult, clientResult, result: &result)
        }
        switch cell.expect.handshake {
        case .ok:
            return judgeSuccess(cell, serverResult, clientResult, server: server, result: &result)
        case .refused:
            return judgeRefusal(cell, serverResult, clientResult, result: &result)
        }
    }

    private static func judgeSuccess(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, server: PeerExit, result: inout CellResult) -> Decision {
        guard s.status == .ok, c.status == .ok else {
            let primary = primaryError(result)
            result.error = primary ?? ReportError(side: .runner, stage: "shutdown", message: "server was stopped after its client ended")
            let outcome: Outcome = primary?.stage == "timeout" ? .timeout : .fail
            return (outcome, primary.map(summary) ?? "server did not finish after its client ended")
        }
        guard let sv = result.serverView else { return mismatch(&result, "server did not report the negotiated version and suite") }
        guard let cv = result.clientView else { return mismatch(&result, "client did not report the negotiated version and suite") }
        if sv.version != cv.version { return mismatch(&result, "server and client disagree on the version: \(sv.version.rawValue) vs \(cv.version.rawValue)") }
        if sv.suiteCode != cv.suiteCode || sv.suite != cv.suite {
            return mismatch(&result, "server and client disagree on the suite: \(sv.suite) (\(sv.suiteCode)) vs \(cv.suite) (\(cv.suiteCode))")
        }
        if let a = sv.group, let b = cv.group, a != b { return mismatch(&result, "server and client disagree on the group: \(a) vs \(b)") }
        if let a = sv.signatureScheme, let b = cv.signatureScheme, a != b {
            return mismatch(&result, "server and client disagree on the server's signature scheme: \(a) vs \(b)")
        }
        let p = cell.params
        if cv.version != p.version { return mismatch(&result, "asked for \(p.version.rawValue), negotiated \(cv.version.rawValue)") }
        if let code = p.suiteCode, cv.suiteCode != code { return mismatch(&result, "asked for suite \(code), negotiated \(cv.suiteCode)") }
        if let group = p.group ?? cell.expect.group, let got = sv.group ?? cv.group, got != group { return mismatch(&result, "asked for group \(group), negotiated \(got)") }
        if let group = cell.expect.group, sv.group == nil && cv.group == nil { return mismatch(&result, "neither side reports the group; \(group) was expected") }
        // The client verified the server: it must have seen our server certificate (the one for
        // the name it asked for).
        let subject = cell.features.alternateHost ? CertificateAuthority.alternateSubject : CertificateAuthority.serverSubject
        if cv.peerCertificate != subject {
            return mismatch(&result, "client reports server certificate \(cv.peerCertificate ?? "none"), expected \(subject)")
        }
        if p.clientAuth == .required && sv.peerCertificate != CertificateAuthority.clientSubject {
            return mismatch(&result, "client auth was required, yet the server reports client certificate \(sv.peerCertificate ?? "none")")
        }
        if let wanted = cell.expect.applicationProtocol {
            if sv.alpn != cv.alpn { return mismatch(&result, "server and client disagree on ALPN: \(sv.alpn ?? "none") vs \(cv.alpn ?? "none")") }
            guard let chosen = cv.alpn else { return mismatch(&result, "no application protocol was negotiated although the lists overlap") }
            if chosen != wanted { result.notes = ["the server chose \(chosen), not its own first choice \(wanted)"] }
        }
        if let reason = judgeFeatures(cell, s, c, sv, cv) { return mismatch(&result, reason) }
        result.error = nil
        if cell.features.keyUpdate, sv.exchange?.keyUpdatesSent == nil || cv.exchange?.keyUpdatesSent == nil {
            let silent = [(cell.server, sv), (cell.client, cv)].filter { $0.1.exchange?.keyUpdatesSent == nil }.map(\.0)
            result.notes = ["\(silent.joined(separator: " and ")) cannot count KeyUpdate messages; the echo on the new keys is the only evidence"]
        }
        if p.clientAuth == .optional && cell.clientPresentsCertificate && sv.peerCertificate == nil {
            // RFC 8446 §4.4.2 and RFC 5246 §7.4.6 let a client send no certificate; say it did.
            result.notes = ["client auth was optional and the client had a certificate, but sent none"]
        }
        return (.pass, nil)
    }

    /// SNI, resumption, transfer and KeyUpdate: what both sides report must show the feature
    /// worked. Returns why not, or nil.
    private static func judgeFeatures(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, _ sv: ReportView, _ cv: ReportView) -> String? {
        let features = cell.features
        if features.alternateHost && sv.serverName != CertificateAuthority.alternateHost {
            return "the client asked for \(CertificateAuthority.alternateHost), the server reports SNI \(sv.serverName ?? "none")"
        }
        if let mode = features.resumption {
            for (side, line) in [("server", s), ("client", c)] {
                let resumed = (line.views ?? []).map { $0.resumed ?? false }
                guard resumed.count == 2 else { return "the \(side) reports \(resumed.count) connections, two were made" }
                if resumed[0] { return "the \(side) reports its first connection resumed, with no session to resume" }
            }
            switch (sv.resumed, cv.resumed) {
            case (true, true): break
            case (false, false): return "the second connection did a full handshake: \(mode.rawValue) resumption silently fell back"
            default: return "server and client disagree on resumption: server says \(sv.resumed ? "resumed" : "full handshake"), client \(cv.resumed ? "resumed" : "full handshake")"
            }
        }
        if let total = features.transferBytes {
            guard let se = sv.exchange, let ce = cv.exchange else { return "a side did not report its transfer" }
            for (side, e) in [("server", se), ("client", ce)] where e.bytesSent != total || e.bytesReceived != total {
                return "the \(side) sent \(e.bytesSent) and received \(e.bytesReceived) bytes of \(total) each way"
            }
            if se.digestReceived != ce.digestSent { return "the server received \(se.digestReceived), the client sent \(ce.digestSent)" }
            if ce.digestReceived != ce.digestSent { return "the echo came back as \(ce.digestReceived), \(ce.digestSent) was sent" }
        }
        if features.keyUpdate, let se = sv.exchange, let ce = cv.exchange,
           let clientSent = ce.keyUpdatesSent, let serverReceived = se.keyUpdatesReceived,
           let serverSent = se.keyUpdatesSent, let clientReceived = ce.keyUpdatesReceived {
            if clientSent < 1 { return "the client's library sent no KeyUpdate" }
            if serverReceived < 1 { return "the server's library saw no KeyUpdate from the client" }
            // RFC 8446 §4.6.3: update_requested obliges the receiver to send its own KeyUpdate.
            if serverSent < 1 || clientReceived < 1 {
                return "the server did not answer update_requested with its own KeyUpdate (server sent \(serverSent), client received \(clientReceived))"
            }
        }
        return nil
    }

    private static func judgeRefusal(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, result: inout CellResult) -> Decision {
        let expected = cell.expect
        if expected.continuingAllowed, s.status == .ok, c.status == .ok {
            // Allowed instead of the refusal: the handshake went on, but without the feature.
            guard result.serverView?.alpn == nil, result.clientView?.alpn == nil else {
                return mismatch(&result, "the lists share no protocol, yet \(result.clientView?.alpn ?? result.serverView?.alpn ?? "one") was negotiated")
            }
            result.notes = ["no refusal: the server carried on without ALPN instead of sending \(expected.alert ?? "an alert")"]
            result.error = nil
            return (.pass, nil)
        }
        guard s.status != .ok || c.status != .ok else {
            return mismatch(&result, "expected the \(expected.refusedBy?.rawValue ?? "either side") to refuse, but the handshake and echo succeeded")
        }
        let refuser: ReportError?
        switch expected.refusedBy {
        case .server: refuser = result.serverError
        case .client: refuser = result.clientError
        case nil: refuser = primaryError(result)
        }
        guard let refuser, ["verify", "handshake"].contains(refuser.stage) else {
            let primary = primaryError(result)
            result.error = primary
            return (primary?.stage == "timeout" ? .timeout : .fail,
                    "expected the \(expected.refusedBy?.rawValue ?? "either side") to refuse the handshake; instead " + (primary.map(summary) ?? "nothing failed"))
        }
        if refuser.alertDirection == "received", let expectedSide = expected.refusedBy {
            // It failed because the other side sent an alert: the other side refused, not this one.
            result.error = expectedSide == .client ? result.serverError ?? refuser : result.clientError ?? refuser
            let other = expectedSide == .client ? "server" : "client"
            return (.fail, "expected the \(expectedSide.rawValue) to refuse; the \(other) refused first (\(expectedSide.rawValue) received \(refuser.alert ?? "an alert"))")
        }
        result.error = refuser
        var notes: [String] = []
        // The other side must learn of the refusal: see the alert, or at least the connection close.
        let other = refuser.side == .server ? result.clientError : result.serverError
        let otherName = refuser.side == .server ? "client" : "server"
        if let other {
            if other.stage == "timeout" {
                return (.fail, "the \(otherName) never learned of the \(refuser.side.rawValue)'s refusal: it waited until its timeout (\(other.message))")
            }
            if let sent = refuser.alert, refuser.alertDirection == "sent" {
                if other.alertDirection == "sent", let own = other.alert {
                    return (.fail, "the \(otherName) did not read the \(refuser.side.rawValue)'s \(sent) alert: it failed with \(own) of its own (\(other.message))")
                }
                if other.alertDirection == "received", let seen = other.alert, seen != sent {
                    notes.append("\(otherName) received \(seen), the \(refuser.side.rawValue) sent \(sent)")
                } else if other.alert == nil {
                    notes.append("\(otherName) saw no alert, only the connection end: \(other.message)")
                }
            }
        }
        if let alert = expected.alert {
            if refuser.alert == nil {
                notes.append("\(refuser.side.rawValue) refused with no alert its library reports sending")
            } else if refuser.alert != alert {
                notes.append("\(refuser.side.rawValue) \(refuser.alertDirection == "received" ? "received" : "sent") \(refuser.alert!) where the RFC names \(alert)")
            }
        }
        result.notes = notes.isEmpty ? nil : notes
        return (.pass, nil)
    }

    /// The network broke the connection on purpose: both sides must fail, by themselves and in
    /// time (the crash and timeout checks before this saw to that), and never accept the data.
    private static func judgeBrokenConnection(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, result: inout CellResult) -> Decision {
        let network = cell.params.network
        if c.status == .ok {
            return mismatch(&result, network == .corrupt
                ? "the client accepted an echo although the network corrupted a record"
                : "the connection survived the \(network) network: the client completed the echo")
        }
        if s.status == .ok {
            return mismatch(&result, "the server reports success although the \(network) network broke the connection")
        }
        let primary = primaryError(result)
        result.error = primary
        if let expected = cell.expect.alert {
            let alerts = [result.serverError, result.clientError].compactMap { $0?.alert }
            if !alerts.contains(expected) && !alerts.contains("decode_error") {
                result.notes = ["neither side reports \(expected) or decode_error" + (alerts.isEmpty ? " (no alert its library reports)" : "; they report \(alerts.joined(separator: ", "))")]
            }
        }
        return (.pass, nil)
    }

    /// The client left without close_notify: it must have completed its part, and the server must
    /// report the truncation at stage shutdown, not a clean end of the stream.
    private static func judgeTruncation(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, result: inout CellResult) -> Decision {
        guard c.status == .ok else {
            result.error = result.clientError
            return (.fail, "the client failed before it could close: " + (result.clientError.map(summary) ?? ""))
        }
        guard s.status == .failed, let error = result.serverError, error.stage == "shutdown" else {
            if s.status == .ok {
                return mismatch(&result, "the server took a connection closed without close_notify for a clean close (a truncation it cannot see)")
            }
            result.error = result.serverError
            return (.fail, "the server failed before the close: " + (result.serverError.map(summary) ?? ""))
        }
        result.error = error
        result.notes = ["server reports the truncation: \(error.message)"]
        return (.pass, nil)
    }

    private static func mismatch(_ result: inout CellResult, _ reason: String) -> Decision {
        result.error = ReportError(side: .runner, stage: "verify", message: reason)
        return (.fail, reason)
    }

    /// The error that explains a failed cell: a side that sent an alert or rejected a certificate
    /// refused; otherwise the first side to report a failure.
    static func primaryError(_ result: CellResult) -> ReportError? {
        let errors = [result.serverError, result.clientError].compactMap { $0 }
        return errors.first { $0.stage == "verify" }
            ?? errors.first { $0.alertDirection == "sent" }
            ?? errors.first { $0.stage != "timeout" }
            ?? errors.first
    }

    static func summary(_ error: ReportError) -> String {
        let alert = error.alert.map { " [\(error.alertDirection ?? "") \($0)]" } ?? ""
        return "\(error.side.rawValue) \(error.stage)\(alert): \(error.message)"
    }

    static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: "SIGSEGV"
        case SIGABRT: "SIGABRT"
        case SIGKILL: "SIGKILL"
        case SIGTERM: "SIGTERM"
        case SIGBUS: "SIGBUS"
        case SIGILL: "SIGILL"
        case SIGFPE: "SIGFPE"
        case SIGTRAP: "SIGTRAP"
        case SIGPIPE: "SIGPIPE"
        default: "signal \(signal)"
        }
    }
}
