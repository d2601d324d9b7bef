internal import CShimBotan
import PeerKit
#if canImport(Glibc)
import Glibc
#endif

/// Owns one `CShimBotan_Channel` (a `TLS::Client` or `TLS::Server`) and drives it over the
/// connected non-blocking socket: Botan's channel is message driven, so this reads what the socket
/// has and feeds it in, and sends what the channel emitted. EAGAIN becomes want-read or want-write.
final class BotanConnection {
    private let channel: OpaquePointer
    /// The channel keeps references to the endpoint's policy, credentials and session manager.
    private let endpoint: BotanEndpoint
    private let descriptor: Int32
    private let role: Role
    private let clientAuth: ClientAuth
    /// The failure to report once Botan's alert about it has left (Botan emits it before rethrowing).
    private var failure: TLSError?
    private var closeNotifySent = false

    init(endpoint: BotanEndpoint, descriptor: Int32, request: PeerRequest) throws(PeerFailure) {
        self.endpoint = endpoint
        self.descriptor = descriptor
        role = request.role
        clientAuth = request.clientAuth
        var error = CShimBotan_Error()
        let host = request.role == .client ? request.serverIdentity.sniHostName ?? "" : ""
        guard let channel = CShimBotan_channel_new(endpoint.handle, host, request.port ?? 0, &error) else {
            throw PeerFailure(stage: .setup, error: BotanError.make(error, request.role == .server ? "TLS::Server" : "TLS::Client"))
        }
        self.channel = channel
    }

    deinit { CShimBotan_channel_free(channel) }

    private enum Flush { case done, blocked, failed(TLSError) }

    /// Sends what the channel emitted, as far as the socket takes it.
    private func flush() -> Flush {
        while true {
            var count = 0
            guard let bytes = CShimBotan_channel_output(channel, &count), count > 0 else { return .done }
            let sent = Glibc.send(descriptor, bytes, count, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                CShimBotan_channel_consume_output(channel, sent)
                continue
            }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .blocked }
            return .failed(TLSError(libraryCode: nil, message: "send: \(String(cString: strerror(code)))", alert: failure?.alert))
        }
    }

    private enum Pump { case fed, wouldBlock, endOfStream, failed(TLSError) }

    /// Reads what the socket has and hands it to Botan.
    private func pump() -> Pump {
        var buffer = [UInt8](repeating: 0, count: 16_709)
        let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count == 0 { return .endOfStream }
        if count < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wouldBlock }
            return .failed(TLSError(libraryCode: nil, message: "recv: \(String(cString: strerror(code)))"))
        }
        var error = CShimBotan_Error()
        let ok = buffer.withUnsafeBytes { CShimBotan_channel_received(channel, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), count, &error) }
        if ok == 0 { return .failed(failureFrom(error)) }
        let alert = CShimBotan_channel_fatal_alert_received(channel)
        if alert >= 0 {
            let observed = ObservedAlert(code: UInt8(truncatingIfNeeded: alert), direction: .received)
            return .failed(TLSError(libraryCode: nil, message: "Botan received a fatal \(observed.name) alert", alert: observed))
        }
        return .fed
    }

    /// The error Botan's exception makes, a certificate refusal read from the status codes of the
    /// path validation (never from the message).
    private func failureFrom(_ raw: CShimBotan_Error) -> TLSError {
        var error = BotanError.make(raw, "TLS::Channel::received_data")
        if raw.verify_failed == 1 {
            var raw = raw
            let statuses = withUnsafeBytes(of: &raw.verify_statuses) { Array($0.bindMemory(to: Int32.self).prefix(Int(raw.verify_status_count))) }
            error.verifyReason = BotanVerification.reason(statuses)
            error.libraryCode = BotanVerification.code(raw.verify_overall)
            error.message += " (Certificate_Status_Code \(statuses.map(String.init).joined(separator: ", ")))"
        } else if raw.client_sent_no_certificate == 1, role == .server, clientAuth == .required {
            // Server_Impl_12::process_certificate_msg: "Policy requires client send a certificate".
            error.verifyReason = .noCertificate
        }
        return error
    }

    /// Flushes, then reports a failure that waited for its alert to leave.
    private func flushThenFailure() -> AsyncOperationResult<Void>? {
        switch flush() {
        case .blocked: return .wantWrite
        case .failed(let error): return .failed(failure ?? error)
        case .done: break
        }
        if let failure { return .failed(failure) }
        return nil
    }

    func handshake() -> AsyncOperationResult<Void> {
        while true {
            if let pending = flushThenFailure() { return pending }
            if CShimBotan_channel_is_active(channel) == 1 { return .complete(()) }
            switch pump() {
            case .fed: continue
            case .wouldBlock: return .wantRead
            case .endOfStream:
                failure = TLSError(libraryCode: nil, message: "the other side closed the connection during the handshake")
            case .failed(let error): failure = error
            }
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        while true {
            if CShimBotan_channel_available(channel) > 0 {
                return .complete(CShimBotan_channel_take(channel, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), buffer.count))
            }
            if CShimBotan_channel_close_notify_received(channel) == 1 {
                // Botan answers a close_notify with its own (Channel::process_alert): let it leave.
                switch flush() {
                case .blocked: return .wantWrite
                case .done, .failed: return .complete(0)
                }
            }
            if let failure { return .failed(failure) }
            switch flush() {
            case .blocked: return .wantWrite
            case .failed(let error): return .failed(error)
            case .done: break
            }
            switch pump() {
            case .fed: continue
            case .wouldBlock: return .wantRead
            case .endOfStream:
                failure = TLSError(libraryCode: nil, message: "the other side closed the connection without close_notify")
            case .failed(let error): failure = error
            }
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        if let failure { return .failed(failure) }
        switch flush() {
        case .blocked: return .wantWrite
        case .failed(let error): return .failed(error)
        case .done: break
        }
        var error = CShimBotan_Error()
        guard CShimBotan_channel_send(channel, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count, &error) == 1 else {
            return .failed(BotanError.make(error, "TLS::Channel::send"))
        }
        // Accepted: what the socket cannot take now leaves on the next call.
        if case .failed(let error) = flush() { return .failed(error) }
        return .complete(bytes.count)
    }

    func closeNotify() -> AsyncOperationResult<Void> {
        if !closeNotifySent {
            closeNotifySent = true
            var error = CShimBotan_Error()
            guard CShimBotan_channel_close(channel, &error) == 1 else { return .failed(BotanError.make(error, "TLS::Channel::close")) }
        }
        switch flush() {
        case .blocked: return .wantWrite
        case .failed(let error): return .failed(error)
        case .done: return .complete(())
        }
    }

    /// After a failure: close_notify, unless Botan already ended the channel with a fatal alert.
    func closeAfterFailure() -> AsyncOperationResult<Void> {
        if CShimBotan_channel_failed(channel) == 1 {
            return .failed(TLSError(libraryCode: nil, message: "Botan ended the connection with a fatal alert; nothing more to send"))
        }
        return closeNotify()
    }

    /// A deadline mid-handshake: a user_canceled warning (Channel::send_alert works in any state).
    func cancelHandshake() -> AsyncOperationResult<Void> {
        if CShimBotan_channel_failed(channel) == 1 || failure != nil {
            return .failed(TLSError(libraryCode: nil, message: "Botan ended the connection with a fatal alert; nothing more to send"))
        }
        if !closeNotifySent {
            closeNotifySent = true
            var error = CShimBotan_Error()
            guard CShimBotan_channel_send_alert(channel, 90, &error) == 1 else { return .failed(BotanError.make(error, "TLS::Channel::send_alert")) }
        }
        switch flush() {
        case .blocked: return .wantWrite
        case .failed(let error): return .failed(error)
        case .done: return .complete(())
        }
    }

    /// What Botan negotiated, and the secrets for the key log.
    func negotiated() -> (view: NegotiatedView, clientRandom: [UInt8]?, masterSecret: [UInt8]?) {
        var raw = CShimBotan_Negotiated()
        CShimBotan_channel_negotiated(channel, &raw)
        var view = NegotiatedView()
        view.version = TLSVersion(wireValue: raw.version)
        if raw.suite != 0 { view.suiteCode = raw.suite }
        let suiteName = BotanCapabilities.text(&raw.suite_name)
        view.librarySuiteName = suiteName.isEmpty ? nil : suiteName
        // Botan spells suites as IANA does without the "TLS_" (Ciphersuite::to_string); the runner
        // names a suite from its code point, and from this for one the registry lacks (CECPQ1).
        view.suiteName = suiteName.isEmpty ? nil : "TLS_" + suiteName
        if raw.has_group == 1 { view.group = NamedGroup.name(code: raw.group) }
        let emsa = BotanCapabilities.text(&raw.signature_emsa)
        if !emsa.isEmpty {
            view.signatureScheme = BotanNames.signatureScheme(key: BotanCapabilities.text(&raw.signature_key), emsa: emsa)
            if view.signatureScheme == nil { view.notReadable.append("signature_scheme") }
        }
        let alpn = BotanCapabilities.text(&raw.alpn)
        view.alpn = alpn.isEmpty ? nil : alpn
        if role == .server {
            let name = BotanCapabilities.text(&raw.server_name)
            view.serverName = name.isEmpty ? nil : name
        }
        view.resumed = raw.resumed == 1
        if raw.has_peer_certificate == 1 { view.peerCertificate = BotanCapabilities.text(&raw.peer_subject) }
        // Botan keeps no PSK identity in its Session (2.19): the server's is the one its psk()
        // callback was asked for and answered with the key, the client's the one psk_identity()
        // handed Botan to send, and only when the session's suite has a PSK key exchange.
        if raw.psk_suite == 1, raw.has_psk_identity == 1 { view.pskIdentity = BotanCapabilities.text(&raw.psk_identity) }
        guard raw.has_secrets == 1 else { return (view, nil, nil) }
        let random = withUnsafeBytes(of: &raw.client_random) { Array($0) }
        let secret = withUnsafeBytes(of: &raw.master_secret) { Array($0) }
        return (view, random, secret)
    }
}
