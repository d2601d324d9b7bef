import Foundation
import PeerKit

/// Decides a cell's outcome from what both peers reported, against the cell's expectation.
/// Every pass rests on values the peers read back from their own libraries, and every expected
/// failure on the reason the cell is about.
enum Verdict {
    /// `cellTimeout` is the deadline the runner killed a hung peer at, named in its error.
    static func judge(_ cell: Cell, server: PeerExit, client: PeerExit?, durationMs: Double, cellTimeout: Duration? = nil) -> CellResult {
        var result = CellResult(cell: cell, outcome: .error, durationMs: durationMs)
        result.serverError = server.result?.error.map { ReportError(side: .server, $0) }
        result.clientError = client?.result?.error.map { ReportError(side: .client, $0) }
        result.serverView = ReportView(server.result)
        result.clientView = ReportView(client?.result)
        result.handshakeMs = client?.result?.handshakeMs ?? server.result?.handshakeMs

        let decided = decide(cell, server: server, client: client, cellTimeout: cellTimeout, result: &result)
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

    private static func decide(_ cell: Cell, server: PeerExit, client: PeerExit?, cellTimeout: Duration?, result: inout CellResult) -> Decision {
        let sides: [(ReportError.Side, PeerExit, String)] = [(.server, server, cell.server)] + (client.map { [(.client, $0, cell.client)] } ?? [])

        // A peer that died on its own, or ended without the protocol's result line, crashed.
        for (side, exit, library) in sides {
            if case .signaled(let signal) = exit.termination, !exit.killedAtDeadline, !exit.killedAfterPartner, !exit.killedForViolations {
                result.error = ReportError(side: side, stage: .crash, message: "peer-\(library) was killed by \(signalName(signal))")
                return (.crash, "\(side.rawValue) peer-\(library) crashed (\(signalName(signal)))")
            }
            if case .exited(let code) = exit.termination, exit.result == nil, code != PeerProtocol.ExitCode.usage.rawValue {
                let said = exit.protocolViolations.first.map { "; printed \"\($0.prefix(120))\"" } ?? ""
                result.error = ReportError(side: side, stage: .crash, message: "peer-\(library) exited with status \(code) without a result line\(said)")
                return (.crash, "\(side.rawValue) peer-\(library) exited with status \(code) without reporting a result")
            }
        }
        // A peer the runner had to kill at the cell deadline hung.
        for (side, exit, library) in sides where exit.killedAtDeadline {
            result.error = ReportError(side: side, stage: .timeout, message: "peer-\(library) was still running at the cell timeout\(cellTimeout.map { " (\($0.inMilliseconds) ms)" } ?? "") and was killed with its process group")
            return (.timeout, "\(side.rawValue) peer-\(library) did not finish before the cell timeout")
        }
        // Unsupported is decided from capabilities before any process starts (CellRunner). A peer
        // that refuses at run time what its capabilities listed has capabilities that lie: that is
        // the peer's error, never an unsupported cell.
        for (side, exit, library) in sides where exit.result?.status == .unsupported {
            let said = exit.result?.reason ?? "no reason given"
            result.error = ReportError(side: side, stage: .setup, message: "peer-\(library) reported unsupported at run time: \(said)")
            return (.error, "\(side.rawValue) peer-\(library) refused at run time what its capabilities list (\(said)): its capabilities are wrong")
        }
        // A peer that rejected its command line, or said things outside the protocol, is a harness error.
        for (side, exit, library) in sides {
            if case .exited(let code) = exit.termination, code == PeerProtocol.ExitCode.usage.rawValue {
                let message = exit.log.split(separator: "\n").last.map(String.init) ?? "usage error"
                result.error = ReportError(side: .runner, stage: .setup, message: "peer-\(library) rejected its arguments: \(message)")
                return (.error, "\(side.rawValue) peer-\(library) rejected the runner's arguments: \(message)")
            }
            if let violation = exit.protocolViolations.first {
                let stopped = exit.killedForViolations ? " (stopped after \(exit.protocolViolations.count) such lines)" : ""
                result.error = ReportError(side: side, stage: .crash, message: "peer-\(library) broke the peer protocol: \(violation)\(stopped)")
                return (.error, "\(side.rawValue) peer-\(library) printed something that is not the peer protocol\(stopped)")
            }
        }
        guard let client, let clientResult = client.result else {
            result.error = result.serverError ?? ReportError(side: .runner, stage: .setup, message: "the server ended without listening")
            return (.fail, result.error.map(summary) ?? "the client never started")
        }
        guard let serverResult = server.result else {
            // The server had to be stopped after its client ended. If the client failed, its error
            // says why (a refused connect, say); if it succeeded, the server hung.
            if let clientError = result.clientError, clientResult.status == .failed {
                result.error = clientError
                return (.fail, summary(clientError) + "; the server was stopped after the client ended")
            }
            result.error = ReportError(side: .server, stage: .timeout, message: "peer-\(cell.server) did not end within \(PeerProcess.partnerGrace) after its client finished")
            return (.timeout, "server peer-\(cell.server) hung after its client finished")
        }

        if cell.expect.truncatedByClient {
            return judgeTruncation(cell, serverResult, clientResult, result: &result)
        }
        if let failure = cell.expect.network {
            return judgeBrokenConnection(cell, failure, serverResult, clientResult, result: &result)
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
            result.error = primary ?? ReportError(side: .runner, stage: .shutdown, message: "server was stopped after its client ended")
            let outcome: Outcome = primary?.stage == .timeout ? .timeout : .fail
            var reason = primary.map(summary) ?? "server did not finish after its client ended"
            if cell.usesLibraryDefaults {
                reason = "out of the box they do not connect: " + reason
            }
            return (outcome, reason)
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
        if let group = cell.expect.group ?? p.group {
            // A forced group must be seen in effect: a side that reads it back shows it; when neither
            // can, nothing shows the forcing worked, so the cell cannot pass.
            guard let got = sv.group ?? cv.group else {
                return mismatch(&result, "neither side reports the key exchange group; \(group) was \(cell.expect.group != nil ? "expected" : "forced")")
            }
            if got != group { return mismatch(&result, "asked for group \(group), negotiated \(got)") }
        }
        // The client verified the server: it must have seen our server certificate (the one for
        // the name it asked for).
        let subject = cell.features.alternateHost ? CertificateAuthority.alternateSubject : CertificateAuthority.serverSubject
        let suite = CipherSuiteRegistry.suite(codeText: cv.suiteCode)
        if let reason = judgePreSharedKey(cell, sv, cv, suite: suite, result: &result) { return mismatch(&result, reason) }
        // A library that cannot expose the subject says so (not_readable); its verification of the
        // chain and the host name, which succeeded, is then the only evidence, and the cell says so.
        if authenticatesByKeyAlone(cell, suite: suite, version: cv.version) {
            // PSK, DHE_PSK and ECDHE_PSK (RFC 4279 §2, §3) and a TLS 1.3 external PSK (RFC 8446
            // §2.2) authenticate by the key alone (judgePreSharedKey): no certificate may cross.
            if let certificate = cv.peerCertificate {
                return mismatch(&result, "\(cv.suite) was to be authenticated by the pre-shared key alone, yet the client reports a server certificate (\(certificate))")
            }
        } else if cv.peerCertificate == nil && cv.notReadable?.contains("peer_certificate") == true {
            note(&result, "the client's library cannot expose the server certificate's subject (not readable); it verified the chain and the host name")
        } else if cv.peerCertificate != subject {
            return mismatch(&result, "client reports server certificate \(cv.peerCertificate ?? "none"), expected \(subject)")
        }
        if p.clientAuth == .required && sv.peerCertificate == nil && sv.notReadable?.contains("peer_certificate") == true {
            note(&result, "the server's library cannot expose the client certificate's subject (not readable); it verified the chain")
        } else if p.clientAuth == .required && sv.peerCertificate != CertificateAuthority.clientSubject {
            return mismatch(&result, "client auth was required, yet the server reports client certificate \(sv.peerCertificate ?? "none")")
        }
        if let wanted = cell.expect.applicationProtocol {
            if sv.alpn != cv.alpn { return mismatch(&result, "server and client disagree on ALPN: \(sv.alpn ?? "none") vs \(cv.alpn ?? "none")") }
            guard let chosen = cv.alpn else { return mismatch(&result, "no application protocol was negotiated although the lists overlap") }
            if chosen != wanted { note(&result, "the server chose \(chosen), not its own first choice \(wanted)") }
        }
        if let reason = judgeFeatures(cell, s, c, sv, cv) { return mismatch(&result, reason) }
        result.error = nil
        if cell.features.keyUpdate, sv.exchange?.keyUpdatesSent == nil || cv.exchange?.keyUpdatesSent == nil {
            let silent = [(cell.server, sv), (cell.client, cv)].filter { $0.1.exchange?.keyUpdatesSent == nil }.map(\.0)
            note(&result, "\(silent.joined(separator: " and ")) cannot count KeyUpdate messages; the echo on the new keys is the only evidence")
        }
        if p.clientAuth == .optional && cell.clientPresentsCertificate && sv.peerCertificate == nil {
            // RFC 8446 §4.4.2 and RFC 5246 §7.4.6 let a client send no certificate; say it did.
            note(&result, "client auth was optional and the client had a certificate, but sent none")
        }
        return (.pass, nil)
    }

    /// A pre-shared key cell: the handshake must have been authenticated by the run's PSK. The server
    /// reports the identity it accepted (and the client, where its library says, the one it sent);
    /// that no certificate crossed where none may is judgeSuccess's (`authenticatesByKeyAlone`).
    /// Returns why not, or nil.
    private static func judgePreSharedKey(_ cell: Cell, _ sv: ReportView, _ cv: ReportView, suite: CipherSuite?, result: inout CellResult) -> String? {
        guard let use = cell.features.preSharedKey else { return nil }
        if cv.version == .tls13 { return judgeExternalPreSharedKey(cell, use, sv, cv, result: &result) }
        guard suite?.isPSK == true else { return "a pre-shared key cell negotiated \(cv.suite), not a PSK suite" }
        return judgeIdentities(sv, cv, evidence: "; the PSK suite it negotiated is the evidence", missing: "yet \(cv.suite) was negotiated", result: &result)
    }

    /// Each side must report the run's PSK identity, or say its library cannot (a note, with
    /// `evidence`); a side that reports none says the PSK was not used (`missing` says why that is
    /// a failure). Returns why not, or nil.
    private static func judgeIdentities(_ sv: ReportView, _ cv: ReportView, evidence: String, missing: String, result: inout CellResult) -> String? {
        let identity = CertificateAuthority.pskIdentity
        for (side, view) in [("server", sv), ("client", cv)] {
            if let got = view.pskIdentity {
                if got != identity { return "the \(side) reports PSK identity \(got), the run's is \(identity)" }
            } else if view.notReadable?.contains("psk_identity") == true {
                note(&result, "the \(side)'s library cannot expose the PSK identity (not readable)\(evidence)")
            } else {
                return "the \(side) reports no PSK identity: \(missing)"
            }
        }
        return nil
    }

    /// Whether the handshake must have been authenticated by the pre-shared key alone, with no
    /// certificate: a PSK suite other than RSA_PSK, or a TLS 1.3 external PSK the server knows.
    private static func authenticatesByKeyAlone(_ cell: Cell, suite: CipherSuite?, version: TLSVersion) -> Bool {
        guard let use = cell.features.preSharedKey else { return false }
        return version == .tls13 ? use == .matching : suite?.sendsServerCertificate == false
    }

    /// TLS 1.3 external PSK: with the server's identity both sides must report it and, under psk_ke,
    /// no key exchange group; with an identity the server does not know it must have selected none
    /// (RFC 8446 §4.2.11) and gone on with its certificate.
    private static func judgeExternalPreSharedKey(_ cell: Cell, _ use: PreSharedKeyUse, _ sv: ReportView, _ cv: ReportView, result: inout CellResult) -> String? {
        if use == .unknownIdentity {
            for (side, view) in [("server", sv), ("client", cv)] {
                if let got = view.pskIdentity { return "the server does not know the client's identity, yet the \(side) reports PSK identity \(got)" }
            }
            return nil
        }
        if let reason = judgeIdentities(sv, cv, evidence: "", missing: "the server selected no PSK and the handshake fell back to its certificate", result: &result) {
            return reason
        }
        if [sv.pskIdentity, cv.pskIdentity].allSatisfy({ $0 == nil }) {
            return "neither side can show the external PSK was selected (psk_identity not readable on both)"
        }
        if cell.features.preSharedKeyWithoutKeyExchange, let group = sv.group ?? cv.group {
            return "psk_ke has no key exchange, yet a side reports group \(group) (psk_dhe_ke was used)"
        }
        return nil
    }

    /// SNI, resumption, transfer and KeyUpdate: what both sides report must show the feature
    /// worked. Returns why not, or nil.
    private static func judgeFeatures(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, _ sv: ReportView, _ cv: ReportView) -> String? {
        let features = cell.features
        if features.addressAsServerName, let name = sv.serverName {
            // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName."
            return "the client named the server by its address, yet the server received SNI \(name)"
        }
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

    /// An expected refusal passes only when the expected side refused, at the stage and for the
    /// reason the scenario is about, and the other side learned of it.
    private static func judgeRefusal(_ cell: Cell, _ s: PeerResultLine, _ c: PeerResultLine, result: inout CellResult) -> Decision {
        let expected = cell.expect
        let who = expected.refusedBy?.rawValue ?? "either side"
        guard s.status != .ok || c.status != .ok else {
            let carriedOn = !cell.serverALPN.isEmpty && result.serverView?.alpn == nil
            return mismatch(&result, carriedOn
                ? "expected the server to refuse with \(expected.alert ?? "an alert") (RFC 7301 §3.2), but it carried on without ALPN"
                : "expected the \(who) to refuse, but the handshake and echo succeeded")
        }
        let refuser: ReportError?
        switch expected.refusedBy {
        case .server: refuser = result.serverError
        case .client: refuser = result.clientError
        case nil: refuser = primaryError(result)
        }
        guard let refuser, [FailureStage.verify, .handshake].contains(refuser.stage) else {
            let primary = primaryError(result)
            result.error = primary
            return (primary?.stage == .timeout ? .timeout : .fail,
                    "expected the \(who) to refuse the handshake; instead " + (primary.map(summary) ?? "nothing failed"))
        }
        if refuser.alertDirection == .received, refuser.stage != .verify, let expectedSide = expected.refusedBy {
            // It failed because the other side sent an alert: the other side refused, not this one.
            result.error = expectedSide == .client ? result.serverError ?? refuser : result.clientError ?? refuser
            let other = expectedSide == .client ? "server" : "client"
            return (.fail, "expected the \(expectedSide.rawValue) to refuse; the \(other) refused first (\(expectedSide.rawValue) received \(refuser.alert ?? "an alert"))")
        }
        result.error = refuser
        if let cause = expected.refusal, let reason = wrongReason(cause, refuser) {
            return (.fail, reason)
        }
        // The other side must learn of the refusal: see the alert, or at least the connection close.
        let other = refuser.side == .server ? result.clientError : result.serverError
        let otherName = refuser.side == .server ? "client" : "server"
        if let other {
            if other.stage == .timeout {
                return (.fail, "the \(otherName) never learned of the \(refuser.side.rawValue)'s refusal: it waited until its timeout (\(other.message))")
            }
            if let sent = refuser.sentAlert {
                if let own = other.sentAlert {
                    return (.fail, "the \(otherName) did not read the \(refuser.side.rawValue)'s \(sent) alert: it failed with \(own) of its own (\(other.message))")
                }
                if let seen = other.receivedAlert, seen != sent {
                    note(&result, "\(otherName) received \(seen), the \(refuser.side.rawValue) sent \(sent)")
                } else if other.alert == nil {
                    note(&result, "\(otherName) saw no alert, only the connection end: \(other.message)")
                }
            }
        }
        if let alert = expected.alert {
            // With either side allowed to refuse, an alert the primary error received came from the other side's refusal.
            let seen = other?.receivedAlert ?? (expected.refusedBy == nil ? refuser.receivedAlert : nil)
            recordAlert(&result, expected: alert, side: refuser.side, sent: refuser.sentAlert, seenByOther: seen, otherFailed: other != nil)
        }
        return (.pass, nil)
    }

    /// Why a refusal at this stage, for this library reason, is not the one the scenario is about; nil when it is.
    static func wrongReason(_ cause: RefusalCause, _ refuser: ReportError) -> String? {
        let side = refuser.side.rawValue
        switch cause {
        case .certificate(let flaw):
            guard refuser.stage == .verify else {
                return "expected the \(side) to reject the certificate as \(flaw.rawValue) (stage verify); it failed at \(refuser.stage.rawValue) instead: \(summary(refuser))"
            }
            guard let given = refuser.verifyReason else {
                return "expected the \(side) to reject the certificate as \(flaw.rawValue); its peer gave no verify_reason: \(summary(refuser))"
            }
            if given != flaw {
                return "expected the \(side) to reject the certificate as \(flaw.rawValue); its library rejected it as \(given.rawValue): \(summary(refuser))"
            }
            return nil
        case .preSharedKey(let use):
            if refuser.stage != .handshake {
                return "expected the \(side) to refuse the client's pre-shared key (\(use.rawValue)) at stage handshake; it failed at \(refuser.stage.rawValue) instead: \(summary(refuser))"
            }
            // Refusing the parameters is another reason: the key was never looked at. (Not
            // illegal_parameter: OpenSSL 3.0 sends it for a TLS 1.3 binder that does not verify.)
            if let alert = refuser.sentAlert, ["handshake_failure", "protocol_version", "insufficient_security"].contains(alert) {
                return "expected the \(side) to refuse the client's pre-shared key (\(use.rawValue)); it refused the handshake's parameters with \(alert) instead: \(summary(refuser))"
            }
            return nil
        case .handshake:
            // A certificate rejection is not the refusal of a version, suite or protocol.
            if refuser.stage == .verify {
                return "expected the \(side) to refuse the handshake's parameters; it rejected a certificate instead (\(refuser.verifyReason?.rawValue ?? "no reason given")): \(summary(refuser))"
            }
            return nil
        }
    }

    /// Keeps the alert a refusal carried, and counts it as a deviation when it is not the one the
    /// RFC names. What the refusing side reports sending is the evidence; failing that, what the other
    /// side received. A refusal neither side reports an alert for, where the other side saw the
    /// connection end, is a deviation too (the RFCs require an alert).
    private static func recordAlert(_ result: inout CellResult, expected: String, side: ReportError.Side, sent: String?, seenByOther: String?, otherFailed: Bool) {
        let observed = sent ?? seenByOther
        result.observedAlert = observed
        if let observed, observed != expected {
            result.alertDeviation = AlertDeviation(side: side, expected: expected, observed: observed)
            note(&result, "\(side.rawValue) \(sent != nil ? "sent" : "was seen to send") \(observed) where the RFC names \(expected)")
        } else if observed == nil {
            if otherFailed {
                result.alertDeviation = AlertDeviation(side: side, expected: expected, observed: nil)
            }
            note(&result, "\(side.rawValue) refused with no alert either side's library reports")
        }
    }

    /// The network broke the connection on purpose: both sides must fail, by themselves, in time
    /// (the crash and timeout checks before this saw to that), at the stage this impairment causes,
    /// and never accept the data.
    private static func judgeBrokenConnection(_ cell: Cell, _ failure: NetworkFailure, _ s: PeerResultLine, _ c: PeerResultLine, result: inout CellResult) -> Decision {
        let network = cell.params.network
        if c.status == .ok {
            return mismatch(&result, network == .corrupt
                ? "the client accepted an echo although the network corrupted a record"
                : "the connection survived the \(network) network: the client completed the echo")
        }
        if s.status == .ok {
            return mismatch(&result, "the server reports success although the \(network) network broke the connection")
        }
        result.error = failure.detectedBy == .client ? result.clientError : failure.detectedBy == .server ? result.serverError : primaryError(result)
        if failure.handshakeCompletes {
            for (side, view) in [("server", result.serverView), ("client", result.clientView)] where view == nil {
                return (.fail, "over the \(network) network both handshakes must complete before the damage; the \(side) did not complete its own: \(result.error.map(summary) ?? "")")
            }
        }
        for (side, error, stage) in [(ReportError.Side.server, result.serverError, failure.serverStage), (.client, result.clientError, failure.clientStage)] {
            guard let error else { return (.fail, "the \(side.rawValue) failed without reporting an error") }
            if error.stage != stage {
                result.error = error
                return (.fail, "over the \(network) network the \(side.rawValue) must fail at stage \(stage.rawValue); it failed at \(error.stage.rawValue): \(summary(error))")
            }
        }
        if let expected = failure.alert, let detector = failure.detectedBy {
            let error = detector == .server ? result.serverError : result.clientError
            let other = detector == .server ? result.clientError : result.serverError
            recordAlert(&result, expected: expected, side: detector == .server ? .server : .client, sent: error?.sentAlert, seenByOther: other?.receivedAlert, otherFailed: other != nil)
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
        guard s.status == .failed, let error = result.serverError, error.stage == .shutdown else {
            if s.status == .ok {
                return mismatch(&result, "the server took a connection closed without close_notify for a clean close (a truncation it cannot see)")
            }
            result.error = result.serverError
            return (.fail, "the server failed before the close: " + (result.serverError.map(summary) ?? ""))
        }
        result.error = error
        note(&result, "server reports the truncation: \(error.message)")
        return (.pass, nil)
    }

    private static func mismatch(_ result: inout CellResult, _ reason: String) -> Decision {
        result.error = ReportError(side: .runner, stage: .verify, message: reason)
        return (.fail, reason)
    }

    /// Notes add up; a later rule never hides an earlier one's remark.
    private static func note(_ result: inout CellResult, _ text: String) {
        result.notes = (result.notes ?? []) + [text]
    }

    /// The error that explains a failed cell: a side that sent an alert or rejected a certificate
    /// refused; otherwise the first side to report a failure.
    static func primaryError(_ result: CellResult) -> ReportError? {
        let errors = [result.serverError, result.clientError].compactMap { $0 }
        return errors.first { $0.stage == .verify }
            ?? errors.first { $0.alertDirection == .sent }
            ?? errors.first { $0.stage != .timeout }
            ?? errors.first
    }

    static func summary(_ error: ReportError) -> String {
        let alert = error.alert.map { " [\(error.alertDirection?.rawValue ?? "") \($0)]" } ?? ""
        let reason = error.verifyReason.map { " (\($0.rawValue))" } ?? ""
        return "\(error.side.rawValue) \(error.stage.rawValue)\(reason)\(alert): \(error.message)"
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
        case SIGHUP: "SIGHUP"
        default: "signal \(signal)"
        }
    }
}
