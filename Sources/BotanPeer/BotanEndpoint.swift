internal import CShimBotan
import PeerKit

/// Owns one `CShimBotan_Endpoint`: the Policy, Credentials_Manager, session manager and RNG every
/// connection of this peer shares (the server's session cache and ticket key live here, so the
/// two connections of `--resume` meet the same ones).
final class BotanEndpoint {
    let handle: OpaquePointer

    init(request: PeerRequest) throws {
        var error = CShimBotan_Error()
        guard let endpoint = CShimBotan_endpoint_new(request.role == .server ? 1 : 0, &error) else {
            throw PeerFailure(stage: .setup, error: BotanError.make(error, "creating the TLS endpoint"))
        }
        handle = endpoint
        try configureVersions(request)
        if request.liftPolicy { CShimBotan_endpoint_lift_policy(handle) }
        let preSharedKey = try request.preSharedKey()
        try configureSuite(request, preSharedKey: preSharedKey)
        if !request.groups.isEmpty {
            var codes: [UInt16] = []
            for name in request.groups {
                guard let code = NamedGroup.code(of: name), BotanCapabilities.groupCodes().contains(code) else {
                    throw Unsupported("Botan \(BotanEngine.library.version) does not support group \(name) (its groups are Group_Params: \(BotanCapabilities.groups().joined(separator: ", ")))")
                }
                codes.append(code)
            }
            guard CShimBotan_endpoint_force_groups(handle, codes, codes.count) == 1 else {
                throw Unsupported("Botan refused the groups \(request.groups.joined(separator: ","))")
            }
        }
        if request.role == .server {
            CShimBotan_endpoint_client_auth(handle, request.clientAuth == .none ? 0 : 1, request.clientAuth == .required ? 1 : 0)
        }
        if let ca = request.trustedCAPath {
            guard CShimBotan_endpoint_load_trust(handle, ca, &error) == 1 else {
                throw PeerFailure(stage: .setup, error: BotanError.make(error, "loading --ca \(ca)"))
            }
        }
        if let certificate = request.certificatePath, let key = request.keyPath {
            guard CShimBotan_endpoint_load_identity(handle, certificate, key, &error) == 1 else {
                throw PeerFailure(stage: .setup, error: BotanError.make(error, "loading --cert \(certificate) / --key \(key)"))
            }
        }
        if let name = request.alternateName, let certificate = request.alternateCertificatePath, let key = request.alternateKeyPath {
            guard CShimBotan_endpoint_load_alternate(handle, name, certificate, key, &error) == 1 else {
                throw PeerFailure(stage: .setup, error: BotanError.make(error, "loading --alt-cert \(certificate) / --alt-key \(key)"))
            }
        }
        for protocolName in request.alpn { CShimBotan_endpoint_add_protocol(handle, protocolName) }
        switch request.resumption {
        case nil: CShimBotan_endpoint_resumption(handle, 0)
        case .sessionID: CShimBotan_endpoint_resumption(handle, 1)
        case .ticket: CShimBotan_endpoint_resumption(handle, 2)
        }
    }

    deinit { CShimBotan_endpoint_free(handle) }

    /// Forces `--suite`: a certificate suite without `--psk`, a PSK suite with it (the PSK is then
    /// the client's only credential and the server's way to know it).
    private func configureSuite(_ request: PeerRequest, preSharedKey: PreSharedKey?) throws {
        let version = BotanEngine.library.version
        guard let preSharedKey else {
            guard let code = request.suiteCode else { return }
            if BotanCapabilities.preSharedKeySuites().contains(where: { $0.code == code }) {
                throw Unsupported("cipher suite \(NegotiatedView.hexCode(code)) authenticates with a pre-shared key: it needs --psk")
            }
            guard BotanCapabilities.certificateSuites().contains(where: { $0.code == code }),
                  CShimBotan_endpoint_force_suite(handle, code) == 1 else {
                throw Unsupported("Botan \(version) does not implement cipher suite \(NegotiatedView.hexCode(code)) with certificates")
            }
            return
        }
        if request.preSharedKeyWithoutKeyExchange {
            throw Unsupported("--psk-mode is TLS 1.3's (RFC 8446 §4.2.9), and Botan \(version) has no TLS 1.3")
        }
        guard let code = request.suiteCode else {
            throw PeerFailure(stage: .setup, message: "--psk needs --suite naming a PSK suite (PSK, DHE_PSK, ECDHE_PSK)")
        }
        guard BotanCapabilities.preSharedKeySuites().contains(where: { $0.code == code }) else {
            if BotanCapabilities.certificateSuites().contains(where: { $0.code == code }) {
                throw PeerFailure(stage: .setup, message: "--psk needs a PSK suite (PSK, DHE_PSK, ECDHE_PSK); \(NegotiatedView.hexCode(code)) is not one")
            }
            throw Unsupported("Botan \(version) does not implement cipher suite \(NegotiatedView.hexCode(code)) (its PSK suites are PSK, DHE_PSK and ECDHE_PSK; it has no RSA_PSK)")
        }
        guard CShimBotan_endpoint_force_suite(handle, code) == 1 else {
            throw Unsupported("Botan \(version) refused to force cipher suite \(NegotiatedView.hexCode(code))")
        }
        CShimBotan_endpoint_pre_shared_key(handle, preSharedKey.identity, preSharedKey.key, preSharedKey.key.count)
    }

    private func configureVersions(_ request: PeerRequest) throws {
        guard let version = request.version else { return }
        if version == .tls13 {
            throw Unsupported("Botan \(BotanEngine.library.version) has no TLS 1.3 (Botan 2 implements TLS 1.0-1.2)")
        }
        if !request.liftPolicy && !BotanCapabilities.defaultVersions().contains(version) {
            throw Unsupported("Botan's default Policy disables \(version.rawValue) (allow_tls10/allow_tls11); --legacy lifts it")
        }
        CShimBotan_endpoint_allow_versions(handle, version == .tls10 ? 1 : 0, version == .tls11 ? 1 : 0, version == .tls12 ? 1 : 0)
    }
}

/// A Botan failure in its own words: the exception's `what()`, its kind as `library_code`, and the
/// alert Botan sent or received.
enum BotanError {
    static func make(_ error: CShimBotan_Error, _ operation: String) -> TLSError {
        var copy = error
        let message = withUnsafeBytes(of: &copy.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let kind = withUnsafeBytes(of: &copy.kind) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        var alert: ObservedAlert?
        if error.alert_received >= 0 {
            alert = ObservedAlert(code: UInt8(truncatingIfNeeded: error.alert_received), direction: .received)
        } else if error.alert_sent >= 0 {
            alert = ObservedAlert(code: UInt8(truncatingIfNeeded: error.alert_sent), direction: .sent)
        }
        return TLSError(libraryCode: kind.isEmpty ? nil : "Botan::\(kind)", message: "\(operation): \(message)", alert: alert)
    }
}
