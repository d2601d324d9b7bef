internal import CShimMbedTLS
import PeerKit

/// The Mbed TLS peer: one `mbedtls_ssl_config` per process and one `mbedtls_ssl_context` per
/// connection, stepped with `mbedtls_ssl_handshake_step` on a non-blocking socket.
public final class MbedTLSEngine: TLSEngine {
    public static var library: LibraryIdentity {
        var buffer = [CChar](repeating: 0, count: 18)
        mbedtls_version_get_string(&buffer)
        return LibraryIdentity(id: id, name: "Mbed TLS", version: String(nulTerminated: buffer))
    }

    /// `mbedtls` as SwiftPM builds it against the distribution's Mbed TLS; a build against another
    /// (ci/build-swift-peer, which sets PEER_VARIANT) is a peer of its own beside it,
    /// `mbedtls-<major>.<minor>` (Sources/peer-mbedtls-3.6/build).
    #if PEER_VARIANT
    static let id = "mbedtls-\(MBEDTLS_VERSION_MAJOR).\(MBEDTLS_VERSION_MINOR)"
    #else
    static let id = "mbedtls"
    #endif

    private let request: PeerRequest
    private let configuration: MbedTLSConfiguration
    private var connection: MbedTLSConnection?
    /// The client's session from its previous connection, offered on the next (`--resume`).
    private var savedSession: MbedTLSSession?

    public required init(request: PeerRequest) throws {
        self.request = request
        if request.keyUpdate {
            throw Unsupported(MbedTLSVersion.is2x
                ? "Mbed TLS \(MbedTLSEngine.library.version) has no TLS 1.3, so no KeyUpdate"
                : "Mbed TLS \(MbedTLSEngine.library.version) has no function that sends a TLS 1.3 KeyUpdate (ssl.h)")
        }
        if request.role == .client, request.serverIdentity.isIPAddress {
            throw Unsupported(MbedTLSVersion.is2x ? MbedTLSCapabilities.noAddressNames : MbedTLSCapabilities.addressSentAsSNI)
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

/// The TLS versions of Mbed TLS, as wire minor versions for the shim's version ranges.
enum MbedTLSVersion {
    /// Whether this is a 2.x build (the same source builds against 3.x headers too; the two series
    /// differ in TLS 1.3 and in what they expose).
    static let is2x = MBEDTLS_VERSION_MAJOR < 3

    /// The wire minor version (TLS 1.0 is 3.1), which the shim's version ranges use.
    static func minor(_ version: TLSVersion) -> Int32 {
        switch version {
        case .tls10: 1
        case .tls11: 2
        case .tls12: 3
        case .tls13: 4
        }
    }

    /// Why a version cannot be had.
    static func missing(_ version: TLSVersion) -> String {
        let library = "Mbed TLS \(MbedTLSEngine.library.version)"
        switch (version, MbedTLSVersion.is2x) {
        case (.tls13, true): return "\(library) has no TLS 1.3 (2.x implements TLS 1.0-1.2)"
        case (.tls10, false), (.tls11, false): return "\(library) has no \(version.rawValue) (3.0 removed TLS 1.0 and 1.1)"
        default: return "\(library) is built without \(version.rawValue) (\(feature(version)) is not set)"
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
    /// (`MBEDTLS_SSL_PROTO_TLS1_3_EXPERIMENTAL`) that the `ssl_tls.c` state machine used here never runs;
    /// 3.x has no TLS 1.0 or 1.1 (their features are unknown to it).
    static var supported: [TLSVersion] {
        (MbedTLSVersion.is2x ? [.tls10, .tls11, .tls12] : [.tls12, .tls13]).filter { mbedtls_version_check_feature(feature($0)) == 0 }
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
