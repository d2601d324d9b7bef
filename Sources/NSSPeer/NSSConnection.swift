internal import CShimNSS
#if canImport(Glibc)
import Glibc
#endif
import PeerKit

/// Owns one NSS SSL socket (`SSL_ImportFD` over `PR_ImportTCPSocket`) on the connected non-blocking
/// socket, whose descriptor stays PeerSession's: it is taken back from NSPR before `PR_Close`.
/// `PR_WOULD_BLOCK_ERROR` becomes want-read or want-write as the SSL layer's own poll method says.
final class NSSConnection {
    private let fd: UnsafeMutablePointer<PRFileDesc>
    private let request: PeerRequest
    let credentials: NSSCredentials
    /// KeyUpdates counted from NSS's secret callback: each application traffic secret past the first
    /// (epoch 3 + N, sslexp.h) comes from one KeyUpdate, sent (write) or received (read).
    private(set) var keyUpdates = KeyUpdateCount()
    /// Why the authentication hook refused the other side's certificate, if it did.
    fileprivate var refusal: (code: PRErrorCode, reason: VerifyReason)?
    fileprivate var alertSent: UInt8?
    fileprivate var alertReceived: UInt8?
    fileprivate var closeNotifyReceived = false
    private var failedFatally = false
    fileprivate var alpnWire: [UInt8]

    init(request: PeerRequest, credentials: NSSCredentials, descriptor: Int32, peerID: String) throws(PeerFailure) {
        self.request = request
        self.credentials = credentials
        alpnWire = request.alpnWire
        guard let tcp = PR_ImportTCPSocket(descriptor) else { throw PeerFailure(stage: .setup, error: NSSError.last("PR_ImportTCPSocket")) }
        var option = PRSocketOptionData()
        option.option = PR_SockOpt_Nonblocking
        option.value.non_blocking = PR_TRUE
        _ = PR_SetSocketOption(tcp, &option)
        guard let ssl = SSL_ImportFD(nil, tcp) else {
            let error = NSSError.last("SSL_ImportFD")
            PR_ChangeFileDescNativeHandle(tcp, -1)
            _ = PR_Close(tcp)
            throw PeerFailure(stage: .setup, error: error)
        }
        fd = ssl
        let context = Unmanaged.passUnretained(self).toOpaque()
        let isServer = request.role == .server
        try set(SSL_SECURITY, PR_TRUE)
        try set(SSL_HANDSHAKE_AS_SERVER, isServer ? PR_TRUE : PR_FALSE)
        try set(SSL_HANDSHAKE_AS_CLIENT, isServer ? PR_FALSE : PR_TRUE)
        // Session-id resumption: no tickets either way; otherwise tickets as NSS offers them.
        try set(SSL_ENABLE_SESSION_TICKETS, request.resumption == .sessionID ? PR_FALSE : PR_TRUE)
        try NSSConfiguration.apply(request, to: fd)
        if let preSharedKey = credentials.preSharedKey {
            try check(preSharedKey.add(to: fd), "SSL_AddExternalPsk")
        }
        try check(SSL_AuthCertificateHook(fd, authenticateCertificate, context), "SSL_AuthCertificateHook")
        try check(SSL_AlertSentCallback(fd, alertWasSent, context), "SSL_AlertSentCallback")
        try check(SSL_AlertReceivedCallback(fd, alertWasReceived, context), "SSL_AlertReceivedCallback")
        try check(CShimNSS_SSL_SecretCallback(fd, secretWasDerived, context), "SSL_SecretCallback")
        if isServer {
            // DHE suites are off on an NSS server unless asked for; it then uses RFC 7919 groups.
            try set(SSL_ENABLE_SERVER_DHE, PR_TRUE)
            try set(SSL_REQUEST_CERTIFICATE, request.clientAuth == .none ? PR_FALSE : PR_TRUE)
            try set(SSL_REQUIRE_CERTIFICATE, request.clientAuth == .required ? SSL_REQUIRE_ALWAYS : SSL_REQUIRE_NEVER)
            guard !credentials.chain.isEmpty, let key = credentials.key else {
                throw PeerFailure(stage: .setup, message: "a server needs --cert and --key")
            }
            try check(configureServerCertificate(credentials.chain, key), "SSL_ConfigServerCert")
            try check(SSL_SNISocketConfigHook(fd, chooseServerCertificate, context), "SSL_SNISocketConfigHook")
        } else {
            // The URL names the host for SNI (NSS sends none for an address literal) and keys the
            // session cache together with the peer id.
            try check(SSL_SetURL(fd, request.serverIdentity.text), "SSL_SetURL")
            try check(SSL_SetSockPeerID(fd, peerID), "SSL_SetSockPeerID")
            if !credentials.chain.isEmpty {
                try check(SSL_GetClientAuthDataHook(fd, presentClientCertificate, context), "SSL_GetClientAuthDataHook")
            }
        }
        if !alpnWire.isEmpty {
            let rc = alpnWire.withUnsafeBufferPointer { SSL_SetNextProtoNego(fd, $0.baseAddress, UInt32($0.count)) }
            try check(rc, "SSL_SetNextProtoNego")
        }
        try check(SSL_ResetHandshake(fd, isServer ? PR_TRUE : PR_FALSE), "SSL_ResetHandshake")
    }

    deinit {
        // The descriptor is PeerSession's to close: NSPR gets an invalid one in its place.
        if let bottom = PR_GetIdentitiesLayer(fd, 0) { PR_ChangeFileDescNativeHandle(bottom, -1) }
        _ = PR_Close(fd)
    }

    private func set(_ option: Int32, _ value: PRBool) throws(PeerFailure) {
        try check(SSL_OptionSet(fd, option, value), "SSL_OptionSet \(option)")
    }

    private func check(_ rc: SECStatus, _ operation: String) throws(PeerFailure) {
        guard rc == SECSuccess else { throw PeerFailure(stage: .setup, error: NSSError.last(operation)) }
    }

    // MARK: steps

    func handshake() -> AsyncOperationResult<Void> {
        if SSL_ForceHandshake(fd) == SECSuccess { return .complete(()) }
        return failure("SSL_ForceHandshake", waiting: Int16(PR_POLL_READ))
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> {
        let n = PR_Read(fd, buffer.baseAddress, Int32(buffer.count))
        if n > 0 { return .complete(Int(n)) }
        if n == 0 {
            // NSS returns 0 at the end of the stream with or without close_notify; its alert
            // callback says whether one came.
            if closeNotifyReceived { return .complete(0) }
            return .failed(TLSError(libraryCode: nil, message: "PR_Read: the connection ended without close_notify (truncated)"))
        }
        return failure("PR_Read", waiting: Int16(PR_POLL_READ))
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> {
        let n = PR_Write(fd, bytes.baseAddress, Int32(bytes.count))
        if n >= 0 { return .complete(Int(n)) }
        return failure("PR_Write", waiting: Int16(PR_POLL_WRITE))
    }

    /// close_notify, then TCP's own shutdown of the sending side (NSS's `PR_Shutdown`).
    func closeNotify() -> AsyncOperationResult<Void> {
        if PR_Shutdown(fd, PR_SHUTDOWN_SEND) == PR_SUCCESS { return .complete(()) }
        return failure("PR_Shutdown", waiting: Int16(PR_POLL_WRITE))
    }

    func closeAfterFailure() -> AsyncOperationResult<Void> {
        if failedFatally {
            return .failed(TLSError(libraryCode: nil, message: "NSS ended the connection with a fatal alert or lost its transport; nothing more to send"))
        }
        return closeNotify()
    }

    func requestKeyUpdate() -> AsyncOperationResult<Void> {
        if CShimNSS_SSL_KeyUpdate(fd, PR_TRUE) == SECSuccess { return .complete(()) }
        return failure("SSL_KeyUpdate", waiting: Int16(PR_POLL_WRITE))
    }

    /// A failed call: would-block becomes the direction NSS's SSL layer asks to poll the socket for
    /// (its poll method turns a read into a write while a handshake flight is unsent, and back).
    private func failure<T>(_ operation: String, waiting flags: Int16) -> AsyncOperationResult<T> {
        let code = PR_GetError()
        if code == PR_WOULD_BLOCK_ERROR {
            var ready: Int16 = 0
            let wanted = fd.pointee.methods.pointee.poll(fd, flags, &ready)
            return wanted & Int16(PR_POLL_WRITE) != 0 ? .wantWrite : .wantRead
        }
        failedFatally = true
        var error = NSSError.make(code, operation)
        if let received = alertReceived {
            error.alert = ObservedAlert(code: received, direction: .received)
        } else if let sent = alertSent {
            error.alert = ObservedAlert(code: sent, direction: .sent)
        }
        if let refusal {
            // The code is the verification result; the handshake's own error stays in the message.
            error.libraryCode = NSSError.name(refusal.code)
            error.message = "certificate refused: \(NSSError.describe(refusal.code)); \(error.message)"
            error.verifyReason = refusal.reason
        } else if request.role == .server && code == SSL_ERROR_NO_CERTIFICATE.rawValue {
            error.verifyReason = .noCertificate
        }
        return .failed(error)
    }

    // MARK: what was negotiated

    func negotiated() -> NegotiatedView {
        var view = NegotiatedView()
        var info = SSLChannelInfo()
        guard SSL_GetChannelInfo(fd, &info, UInt32(MemoryLayout<SSLChannelInfo>.size)) == SECSuccess else { return view }
        view.version = TLSVersion(wireValue: info.protocolVersion)
        view.suiteCode = info.cipherSuite
        var suite = SSLCipherSuiteInfo()
        if SSL_GetCipherSuiteInfo(info.cipherSuite, &suite, UInt32(MemoryLayout<SSLCipherSuiteInfo>.size)) == SECSuccess,
           let name = suite.cipherSuiteName {
            let text = String(cString: name)
            view.librarySuiteName = text
            // NSS spells suites as the IANA registry does.
            view.suiteName = text.hasPrefix("TLS_") ? text : nil
        }
        view.group = NSSNames.group(info.keaGroup)
        view.signatureScheme = NSSNames.signatureScheme(info.signatureScheme)
        view.resumed = info.resumed != PR_FALSE
        // NSS keeps one external PSK per socket, so a handshake that used an external PSK
        // (SSLChannelInfo.pskType, NSS 3.54) used this one: the server selected it.
        if info.pskType == ssl_psk_external {
            view.pskIdentity = credentials.preSharedKey?.identity
        }
        var state = SSL_NEXT_PROTO_NO_SUPPORT
        var protocolName = [UInt8](repeating: 0, count: 256)
        var length: UInt32 = 0
        if SSL_GetNextProto(fd, &state, &protocolName, &length, UInt32(protocolName.count)) == SECSuccess,
           state == SSL_NEXT_PROTO_NEGOTIATED || state == SSL_NEXT_PROTO_SELECTED, length > 0 {
            view.alpn = String(decoding: protocolName[..<Int(length)], as: UTF8.self)
        }
        if let certificate = SSL_PeerCertificate(fd) {
            view.peerCertificate = certificate.pointee.subjectName.map { String(cString: $0) }
            CERT_DestroyCertificate(certificate)
        }
        if request.role == .server, let name = SSL_GetNegotiatedHostInfo(fd) {
            if let data = name.pointee.data {
                view.serverName = String(decoding: UnsafeBufferPointer(start: data, count: Int(name.pointee.len)), as: UTF8.self)
            }
            SECITEM_FreeItem(name, PR_TRUE)
        }
        return view
    }

    // MARK: callbacks

    fileprivate func authenticate(isServer: Bool) -> SECStatus {
        guard let certificate = SSL_PeerCertificate(fd) else {
            refusal = (SSL_ERROR_NO_CERTIFICATE.rawValue, .noCertificate)
            PR_SetError(SSL_ERROR_NO_CERTIFICATE.rawValue, 0)
            return SECFailure
        }
        defer { CERT_DestroyCertificate(certificate) }
        // The rest of the chain the peer sent, held while the chain is built: NSS 3.87 kept a
        // handshake's certificates in its temporary store by itself, 3.110 only makes them (as
        // temporary certificates its issuer lookup finds) when asked for the chain, and refused
        // a chain through an intermediate as SEC_ERROR_UNKNOWN_ISSUER without this.
        let chain = SSL_PeerCertificateChain(fd)
        defer { if let chain { CERT_DestroyCertList(chain) } }
        let host = isServer ? nil : request.serverIdentity.text
        if let code = NSSVerification.verify(certificate, presented: chain, anchors: credentials.trustAnchors, asClient: isServer, host: host) {
            refusal = (code, NSSVerification.reason(code, certificate: certificate))
            PR_SetError(code, 0)
            return SECFailure
        }
        return SECSuccess
    }

    /// The server's certificate and exactly the chain of its file: left to itself, NSS builds the
    /// chain from its temporary store, which may hold an intermediate another cell loaded.
    private func configureServerCertificate(_ chain: [NSSCertificate], _ key: NSSPrivateKey) -> SECStatus {
        guard let leaf = chain.first else { return SECFailure }
        let handles: [UnsafeMutablePointer<CERTCertificate>?] = chain.map(\.handle)
        guard let list = handles.withUnsafeBufferPointer({ CShimNSS_certificate_list($0.baseAddress, Int32(chain.count)) }) else { return SECFailure }
        defer { CERT_DestroyCertificateList(list) }
        var extra = SSLExtraServerCertData()
        extra.authType = ssl_auth_null
        extra.certChain = UnsafePointer(list)
        return SSL_ConfigServerCert(fd, leaf.handle, key.handle, &extra, UInt32(MemoryLayout<SSLExtraServerCertData>.size))
    }

    fileprivate func serverCertificate(forNames names: UnsafePointer<SECItem>?, _ count: Int) -> Int32 {
        guard let names, count > 0 else { return SSL_SNI_CURRENT_CONFIG_IS_USED }
        for index in 0..<count {
            let item = names[index]
            guard let data = item.data else { continue }
            let name = String(decoding: UnsafeBufferPointer(start: data, count: Int(item.len)), as: UTF8.self)
            if let alternate = request.alternateName, name.lowercased() == alternate.lowercased(),
               !credentials.alternateChain.isEmpty, let key = credentials.alternateKey {
                guard configureServerCertificate(credentials.alternateChain, key) == SECSuccess else { return SSL_SNI_SEND_ALERT }
                return Int32(index)
            }
        }
        // The first name, served with the default certificate: NSS then records it for
        // SSL_GetNegotiatedHostInfo.
        return 0
    }

    fileprivate func presentCertificate(_ certificate: UnsafeMutablePointer<UnsafeMutablePointer<CERTCertificate>?>,
                                        _ key: UnsafeMutablePointer<UnsafeMutablePointer<SECKEYPrivateKey>?>) -> SECStatus {
        guard let leaf = credentials.chain.first, let privateKey = credentials.key else { return SECFailure }
        certificate.pointee = CERT_DupCertificate(leaf.handle)
        key.pointee = SECKEY_CopyPrivateKey(privateKey.handle)
        return SECSuccess
    }

    fileprivate func observe(alert: SSLAlert, sent: Bool) {
        if alert.description == 0 {
            if !sent { closeNotifyReceived = true }
            return
        }
        if alert.level == 2 || alert.description == 90 {
            if sent { alertSent = alertSent ?? alert.description } else { alertReceived = alertReceived ?? alert.description }
        }
    }

    fileprivate func observeSecret(epoch: UInt16, write: Bool) {
        guard epoch > 3 else { return }
        if write { keyUpdates.sent += 1 } else { keyUpdates.received += 1 }
    }
}

private func connection(_ arg: UnsafeMutableRawPointer?) -> NSSConnection? {
    arg.map { Unmanaged<NSSConnection>.fromOpaque($0).takeUnretainedValue() }
}

private func authenticateCertificate(_ arg: UnsafeMutableRawPointer?, _ fd: UnsafeMutablePointer<PRFileDesc>?, _ checkSignature: PRBool, _ isServer: PRBool) -> SECStatus {
    connection(arg)?.authenticate(isServer: isServer != PR_FALSE) ?? SECFailure
}

private func chooseServerCertificate(_ fd: UnsafeMutablePointer<PRFileDesc>?, _ names: UnsafePointer<SECItem>?, _ count: UInt32, _ arg: UnsafeMutableRawPointer?) -> Int32 {
    connection(arg)?.serverCertificate(forNames: names, Int(count)) ?? SSL_SNI_SEND_ALERT
}

private func presentClientCertificate(_ arg: UnsafeMutableRawPointer?, _ fd: UnsafeMutablePointer<PRFileDesc>?, _ caNames: UnsafeMutablePointer<CERTDistNames>?,
                                      _ certificate: UnsafeMutablePointer<UnsafeMutablePointer<CERTCertificate>?>?,
                                      _ key: UnsafeMutablePointer<UnsafeMutablePointer<SECKEYPrivateKey>?>?) -> SECStatus {
    guard let owner = connection(arg), let certificate, let key else { return SECFailure }
    return owner.presentCertificate(certificate, key)
}

private func alertWasSent(_ fd: UnsafePointer<PRFileDesc>?, _ arg: UnsafeMutableRawPointer?, _ alert: UnsafePointer<SSLAlert>?) {
    if let alert { connection(arg)?.observe(alert: alert.pointee, sent: true) }
}

private func alertWasReceived(_ fd: UnsafePointer<PRFileDesc>?, _ arg: UnsafeMutableRawPointer?, _ alert: UnsafePointer<SSLAlert>?) {
    if let alert { connection(arg)?.observe(alert: alert.pointee, sent: false) }
}

private func secretWasDerived(_ fd: UnsafeMutablePointer<PRFileDesc>?, _ epoch: UInt16, _ direction: SSLSecretDirection, _ secret: OpaquePointer?, _ arg: UnsafeMutableRawPointer?) {
    connection(arg)?.observeSecret(epoch: epoch, write: direction == ssl_secret_write)
}
