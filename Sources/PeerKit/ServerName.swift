#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a client's `--server-name` names, which decides both what it sends as SNI and what the
/// server certificate must match.
public enum ServerName: Equatable, Sendable {
    /// A host name: sent as SNI and matched against the certificate's dNSName SANs.
    case dns(String)
    /// An IPv4 or IPv6 address literal (as `inet_pton` reads it): never sent as SNI, since RFC 6066 §3
    /// says "Literal IPv4 and IPv6 addresses are not permitted in HostName", and matched against the
    /// certificate's iPAddress SANs (RFC 5280 §4.2.1.6) by the address's bytes.
    case ipAddress(String, bytes: [UInt8])

    /// Reads `text` as an address literal first (dotted-quad IPv4, RFC 4291 §2.2 IPv6 text without
    /// brackets or zone), and as a host name otherwise.
    public init(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .ipAddress(text, bytes: withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .ipAddress(text, bytes: withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        self = .dns(text)
    }

    /// The name to put in the server_name extension, nil for an address (no SNI at all).
    public var sniHostName: String? {
        if case .dns(let name) = self { return name }
        return nil
    }

    /// The text as given.
    public var text: String {
        switch self {
        case .dns(let name): name
        case .ipAddress(let text, _): text
        }
    }

    public var isIPAddress: Bool {
        if case .ipAddress = self { return true }
        return false
    }
}

extension PeerRequest {
    /// `serverName` read as a host name or an address literal.
    public var serverIdentity: ServerName { ServerName(serverName) }
}
