/// What the runner asks one peer process to do, parsed from its command line. The options are the
/// peer protocol (docs/peer-protocol.md); every peer, in any language, accepts the same ones.
public struct PeerRequest: Sendable {
    public var role: Role
    /// Forced protocol version; nil leaves the library's default range.
    public var version: TLSVersion?
    /// Forced cipher suite by IANA code point; nil leaves the library's default list.
    public var suiteCode: UInt16?
    /// Forced key exchange group (IANA name, e.g. `x25519`); nil leaves the library's default.
    /// A comma-separated list (`x25519,secp384r1`) allows several, most preferred first.
    public var group: String?
    /// The forced groups one by one.
    public var groups: [String] { group.map { $0.split(separator: ",").map(String.init) } ?? [] }
    public var certificatePath: String?
    public var keyPath: String?
    public var trustedCAPath: String?
    public var clientAuth: ClientAuth = .none
    /// The name the client asks for (SNI) and checks the server certificate against.
    public var serverName: String = "localhost"
    /// The TCP port a client connects to on 127.0.0.1.
    public var port: UInt16?
    /// Everything the peer does (connect, handshake, data, close) must finish by then.
    public var timeoutMilliseconds: Int = 10_000
    /// Lift the library's default policy where it refuses what the library implements (OpenSSL 3's
    /// security level refusing TLS 1.0/1.1). Only when the matrix asks for it (`legacy: true`).
    public var liftPolicy = false
    /// Application protocols (RFC 7301) to offer (client) or accept (server), most preferred first.
    public var alpn: [String] = []
    /// ALPN in its wire form: each protocol behind its one-byte length.
    public var alpnWire: [UInt8] { alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } }
    /// Client only: after the echo, close the TCP connection without close_notify (as applications
    /// that skip it do), so the server's truncation detection can be checked.
    public var truncate = false
    /// Where to append the connection's secrets in the NSS key log format, if anywhere.
    public var keyLogPath: String?
    /// The line the client sends; the server returns it with `PeerRequest.echoSuffix` appended.
    public var message: String = "interop-matrix ping"
    /// Server only: a second certificate (and its key) for clients whose SNI is `alternateName`.
    public var alternateName: String?
    public var alternateCertificatePath: String?
    public var alternateKeyPath: String?
    /// Resume: the client connects twice, offering the first connection's session the second time;
    /// the server takes both connections on one configuration (session cache, ticket keys).
    public var resumption: ResumptionMode?
    /// Instead of the echo line, this many bytes each way (client to server, echoed back), checked
    /// byte for byte and by digest.
    public var transferBytes: Int?
    /// Client only, TLS 1.3: after the handshake, send a KeyUpdate asking the server to update too.
    public var keyUpdate = false
    /// `--psk FILE`: the pre-shared key file (feature `psk`), read by `preSharedKey()`.
    public var preSharedKeyPath: String?
    /// `--psk-mode ke`: TLS 1.3 psk_ke, the key alone, instead of psk_dhe_ke (RFC 8446 §4.2.9).
    public var preSharedKeyWithoutKeyExchange = false

    /// How many connections the peer makes or takes.
    public var connections: Int { resumption == nil ? 1 : 2 }

    /// What the server appends to the line it echoes.
    public static let echoSuffix = " pong"

    public init(role: Role) { self.role = role }

    /// A usage error: the runner or a person typed something the protocol does not allow.
    public struct UsageError: Error, Sendable {
        public var message: String
    }

    /// Parses `server|client --option value …`.
    public init(arguments: [String]) throws(UsageError) {
        guard let first = arguments.first, let role = Role(rawValue: first) else {
            throw UsageError(message: "expected 'server', 'client' or 'capabilities' as the first argument")
        }
        self.init(role: role)
        var index = 1
        func value(_ option: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError(message: "\(option) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let option = arguments[index]
            switch option {
            case "--version":
                let text = try value(option)
                guard let v = TLSVersion(rawValue: text) else {
                    throw UsageError(message: "--version \(text): expected one of TLS1.0, TLS1.1, TLS1.2, TLS1.3")
                }
                version = v
            case "--suite":
                let text = try value(option)
                guard text.hasPrefix("0x"), let code = UInt16(text.dropFirst(2), radix: 16) else {
                    throw UsageError(message: "--suite \(text): expected an IANA code point such as 0xC02B")
                }
                suiteCode = code
            case "--group": group = try value(option)
            case "--cert": certificatePath = try value(option)
            case "--key": keyPath = try value(option)
            case "--ca": trustedCAPath = try value(option)
            case "--client-auth":
                let text = try value(option)
                guard let mode = ClientAuth(rawValue: text) else {
                    throw UsageError(message: "--client-auth \(text): expected none, optional or required")
                }
                clientAuth = mode
            case "--server-name": serverName = try value(option)
            case "--port":
                let text = try value(option)
                guard let p = UInt16(text), p > 0 else { throw UsageError(message: "--port \(text): expected 1-65535") }
                port = p
            case "--timeout-ms":
                let text = try value(option)
                guard let t = Int(text), t > 0 else { throw UsageError(message: "--timeout-ms \(text): expected a positive number") }
                timeoutMilliseconds = t
            case "--message": message = try value(option)
            case "--legacy": liftPolicy = true
            case "--truncate": truncate = true
            case "--keylog": keyLogPath = try value(option)
            case "--alt-name": alternateName = try value(option)
            case "--alt-cert": alternateCertificatePath = try value(option)
            case "--alt-key": alternateKeyPath = try value(option)
            case "--resume":
                let text = try value(option)
                guard let mode = ResumptionMode(rawValue: text) else {
                    throw UsageError(message: "--resume \(text): expected session-id or ticket")
                }
                resumption = mode
            case "--transfer":
                let text = try value(option)
                guard let n = Int(text), n > 0, n <= 1 << 30 else { throw UsageError(message: "--transfer \(text): expected a byte count from 1 to 1073741824") }
                transferBytes = n
            case "--key-update": keyUpdate = true
            case "--psk": preSharedKeyPath = try value(option)
            case "--psk-mode":
                let text = try value(option)
                guard text == "ke" || text == "dhe-ke" else { throw UsageError(message: "--psk-mode \(text): expected ke or dhe-ke") }
                preSharedKeyWithoutKeyExchange = text == "ke"
            case "--alpn":
                let text = try value(option)
                alpn = text.split(separator: ",").map(String.init)
                guard !alpn.isEmpty, alpn.allSatisfy({ !$0.isEmpty && $0.utf8.count < 256 }) else {
                    throw UsageError(message: "--alpn \(text): expected comma-separated protocol names such as h2,http/1.1")
                }
            default:
                throw UsageError(message: "unknown option \(option)")
            }
            index += 1
        }
        if role == .client && port == nil { throw UsageError(message: "client needs --port") }
        if role == .server && (certificatePath == nil || keyPath == nil) {
            throw UsageError(message: "server needs --cert and --key")
        }
        if (certificatePath == nil) != (keyPath == nil) {
            throw UsageError(message: "--cert and --key go together")
        }
        let alternate = [alternateName, alternateCertificatePath, alternateKeyPath]
        if alternate.contains(where: { $0 != nil }) && alternate.contains(where: { $0 == nil }) {
            throw UsageError(message: "--alt-name, --alt-cert and --alt-key go together")
        }
        if message.contains("\n") { throw UsageError(message: "--message must be one line") }
        if preSharedKeyWithoutKeyExchange && preSharedKeyPath == nil { throw UsageError(message: "--psk-mode goes with --psk") }
    }
}

extension PeerRequest {
    /// The identity and key of `--psk FILE`, or nil without `--psk`. A file that cannot be read or
    /// is not in the protocol's form is this side's configuration failing: stage `setup`.
    public func preSharedKey() throws(PeerFailure) -> PreSharedKey? {
        guard let path = preSharedKeyPath else { return nil }
        guard let text = TextFile.text(at: path, limit: 64 << 10) else {
            throw PeerFailure(stage: .setup, message: "cannot read the pre-shared key file \(path)")
        }
        do {
            return try PreSharedKey(fileText: text)
        } catch {
            throw PeerFailure(stage: .setup, message: "\(path): \(error.message)")
        }
    }
}

/// A pre-shared key as the peer protocol's `--psk FILE` gives it (RFC 4279 §5: an identity of up
/// to 128 bytes of UTF-8, a key of up to 64 bytes): the identity on the first line, the key in hex
/// on the second. The server knows exactly this identity with this key; the client offers it.
public struct PreSharedKey: Sendable, Equatable {
    public var identity: String
    public var key: [UInt8]

    public struct FormatError: Error, Sendable {
        public var message: String
    }

    public init(identity: String, key: [UInt8]) {
        self.identity = identity
        self.key = key
    }

    public init(fileText text: String) throws(FormatError) {
        // By bytes: a Swift string holds "\r\n" as one character, which no split on "\n" finds.
        let lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            .map { $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0 }
        guard lines.count >= 2, !lines[1].isEmpty, lines.dropFirst(2).allSatisfy(\.isEmpty) else {
            throw FormatError(message: "expected two lines, the identity and the key in hex")
        }
        let identity = String(decoding: lines[0], as: UTF8.self)
        guard !identity.isEmpty, identity.utf8.count <= 128, !identity.unicodeScalars.contains(where: { $0.value < 0x20 }) else {
            throw FormatError(message: "the identity must be 1 to 128 bytes of UTF-8 without control characters")
        }
        let hex = Array(lines[1])
        guard !hex.isEmpty, hex.count % 2 == 0, hex.count <= 128 else {
            throw FormatError(message: "the key must be 1 to 64 bytes, written as an even number of hex digits")
        }
        var key: [UInt8] = []
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else {
                throw FormatError(message: "the key is not hex")
            }
            key.append(high << 4 | low)
        }
        self.init(identity: identity, key: key)
    }

    /// For the server callback of the OpenSSL-style APIs (OpenSSL, BoringSSL, wolfSSL): copies the
    /// key into `buffer` when `identity` is this key's. Returns its length, or 0 (what those APIs
    /// take for "unknown identity") for another identity or a buffer too small.
    public func key(for identity: String, into buffer: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        guard identity == self.identity, key.count <= buffer.count else { return 0 }
        _ = buffer.initialize(from: key)
        return UInt32(key.count)
    }

    /// For the client callback of the OpenSSL-style APIs: writes the identity, NUL-terminated, and
    /// the key. Returns the key's length, or 0 when either does not fit.
    public func offer(identityInto identityBuffer: UnsafeMutableBufferPointer<CChar>, keyInto keyBuffer: UnsafeMutableBufferPointer<UInt8>) -> UInt32 {
        guard identity.utf8.count < identityBuffer.count, key.count <= keyBuffer.count else { return 0 }
        _ = identityBuffer.initialize(from: identity.utf8.map { CChar(bitPattern: $0) } + [0])
        _ = keyBuffer.initialize(from: key)
        return UInt32(key.count)
    }

    /// The file's text, as `init(fileText:)` reads it.
    public var fileText: String {
        identity + "\n" + key.map { String($0 >> 4, radix: 16) + String($0 & 0xF, radix: 16) }.joined() + "\n"
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// How a client resumes its first session on its second connection.
public enum ResumptionMode: String, Sendable {
    /// TLS 1.2 and below: the server's session cache, found by session id; no tickets either way.
    case sessionID = "session-id"
    /// A ticket the server issued (RFC 5077 in TLS 1.2, a PSK ticket in TLS 1.3).
    case ticket
}
