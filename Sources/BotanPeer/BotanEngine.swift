internal import CShimBotan
import PeerKit

/// The Botan 2 peer: one endpoint (Policy, credentials, session manager, RNG) per peer and one
/// `TLS::Client` / `TLS::Server` channel per connection, fed from the non-blocking socket.
public final class BotanEngine: TLSEngine {
    public static var library: LibraryIdentity {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        CShimBotan_version(&major, &minor, &patch)
        return LibraryIdentity(id: "botan", name: "Botan", version: "\(major).\(minor).\(patch)")
    }

    private let request: PeerRequest
    private let endpoint: BotanEndpoint
    private var connection: BotanConnection?
    private let keyLog: KeyLog?

    public required init(request: PeerRequest) throws {
        self.request = request
        if request.keyUpdate {
            throw Unsupported("Botan \(BotanEngine.library.version) has no TLS 1.3, so no KeyUpdate")
        }
        if request.role == .client, request.serverIdentity.isIPAddress {
            throw Unsupported("Botan \(BotanEngine.library.version) cannot check a certificate against an IP address: X509_Certificate::matches_dns_name compares dNSName SANs (or the CN) only")
        }
        endpoint = try BotanEndpoint(request: request)
        keyLog = try KeyLog.opened(for: request)
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        connection = nil
        connection = try BotanConnection(endpoint: endpoint, descriptor: descriptor, request: request)
    }

    public func handshake() -> AsyncOperationResult<Void> { connection!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { connection!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { connection!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { connection!.closeNotify() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { connection!.closeAfterFailure() }
    public func cancelHandshake() -> AsyncOperationResult<Void> { connection!.cancelHandshake() }

    public func negotiated() -> NegotiatedView {
        let (view, clientRandom, masterSecret) = connection!.negotiated()
        // TLS 1.2's key log line: the ClientHello's random and the session's master secret
        // (Session::master_secret, handed over in tls_session_established).
        if let keyLog, let clientRandom, let masterSecret {
            clientRandom.withUnsafeBytes { random in
                masterSecret.withUnsafeBytes { keyLog.append(label: "CLIENT_RANDOM", clientRandom: random, secret: $0) }
            }
        }
        return view
    }

    /// The session manager already keeps the session under the server's name and port
    /// (tls_session_established returns true), and the next TLS::Client offers it.
    public func keepSessionForResumption() throws(PeerFailure) {}

    public static func capabilities() -> Capabilities {
        BotanCapabilities.read()
    }
}
