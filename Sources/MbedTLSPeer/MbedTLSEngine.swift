internal import CShimMbedTLS
import PeerKit

/// The Mbed TLS peer: one `mbedtls_ssl_config` per process and one `mbedtls_ssl_context` per
/// connection, stepped with `mbedtls_ssl_handshake_step` on a non-blocking socket.
public final class MbedTLSEngine: TLSEngine {
    public static var library: LibraryIdentity {
        var buffer = [CChar](repeating: 0, count: 18)
        mbedtls_version_get_string(&buffer)
        return LibraryIdentity(id: "mbedtls", name: "Mbed TLS", version: String(nulTerminated: buffer))
    }

    private let request: PeerRequest
    private let configuration: MbedTLSConfiguration
    private var connection: MbedTLSConnection?
    /// The client's session from its previous connection, offered on the next (`--resume`).
    private var savedSession: MbedTLSSession?

    public required init(request: PeerRequest) throws {
        self.request = request
        if request.keyUpdate {
            throw Unsupported("Mbed TLS \(MbedTLSEngine.library.version) has no TLS 1.3, so no KeyUpdate")
        }
        if request.role == .client, request.serverIdentity.isIPAddress {
            throw Unsupported(MbedTLSCapabilities.noAddressNames)
        }
        configuration = try MbedTLSConfiguration(request: request)
    }

    public func attach(socket descriptor: Int32) throws(PeerFailure) {
        connection = try MbedTLSConnection(configuration: configuration, descriptor: descriptor, request: request, resuming: savedSession)
    }

    public func handshake() -> AsyncOperationResult<Void> { connection!.handshake() }
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> AsyncOperationResult<Int> { connection!.read(into: buffer) }
    public func write(_ bytes: UnsafeRawBufferPointer) -> AsyncOperationResult<Int> { connection!.write(bytes) }
    public func closeNotify() -> AsyncOperationResult<Void> { connection!.closeNotify() }
    public func closeAfterFailure() -> AsyncOperationResult<Void> { connection!.closeNotifyAfterFailure() }
    public func cancelHandshake() -> AsyncOperationResult<Void> { connection!.cancelHandshake() }
    public func negotiated() -> NegotiatedView { connection!.negotiated() }
    public func keepSessionForResumption() throws(PeerFailure) { savedSession = try connection!.resumableSession() }

    public static func capabilities() -> Capabilities { MbedTLSCapabilities.read() }
}

/// An Mbed TLS error code in the library's own words (`mbedtls_strerror`), code as `-0x7780`.
enum MbedTLSError {
    static func make(_ code: Int32, _ operation: String) -> TLSError {
        var buffer = [CChar](repeating: 0, count: 256)
        mbedtls_strerror(code, &buffer, buffer.count)
        return TLSError(libraryCode: hex(code), message: "\(operation): \(String(nulTerminated: buffer))")
    }

    static func hex(_ code: Int32) -> String {
        (code < 0 ? "-0x" : "0x") + String(UInt32(code.magnitude), radix: 16, uppercase: true).leftPadded(to: 4)
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}

/// The TLS versions of Mbed TLS 2.x as (major, minor) pairs of `mbedtls_ssl_conf_min_version`.
enum MbedTLSVersion {
    static func minor(_ version: TLSVersion) -> Int32 {
        switch version {
        case .tls10: MBEDTLS_SSL_MINOR_VERSION_1
        case .tls11: MBEDTLS_SSL_MINOR_VERSION_2
        case .tls12: MBEDTLS_SSL_MINOR_VERSION_3
        case .tls13: MBEDTLS_SSL_MINOR_VERSION_4
        }
    }

    /// The config.h feature that compiles a version in, as `mbedtls_version_check_feature` knows it.
    static func feature(_ version: TLSVersion) -> String {
        switch version {
        case .tls10: "MBEDTLS_SSL_PROTO_TLS1"
        case .tls11: "MBEDTLS_SSL_PROTO_TLS1_1"
        case .tls12: "MBEDTLS_SSL_PROTO_TLS1_2"
        case .tls13: "MBEDTLS_SSL_PROTO_TLS1_3"
        }
    }

    /// Versions this build has. Mbed TLS 2.28's TLS 1.3 is a separate prototype
    /// (`MBEDTLS_SSL_PROTO_TLS1_3_EXPERIMENTAL`) that the `ssl_tls.c` state machine used here never runs.
    static var supported: [TLSVersion] {
        [.tls10, .tls11, .tls12].filter { mbedtls_version_check_feature(feature($0)) == 0 }
    }

    static func parse(_ text: String) -> TLSVersion? {
        switch text {
        case "TLSv1.0": .tls10
        case "TLSv1.1": .tls11
        case "TLSv1.2": .tls12
        case "TLSv1.3": .tls13
        default: nil
        }
    }
}
