// swift-tools-version: 6.2
import PackageDescription

/// BoringSSL comes vendored in swift-nio-ssl, and building it (with the swift-nio it brings) is most
/// of a cold build's time. `INTEROP_MATRIX_WITHOUT_BORINGSSL=1 swift build` (or `swift run`, `swift
/// test`) leaves its peer out; the runner then finds the other libraries, as it would any missing peer.
let withBoringSSL = Context.environment["INTEROP_MATRIX_WITHOUT_BORINGSSL"] == nil
/// The BoringSSL peer, when built, beside the runner and the tests.
let boringSSLPeer: [Target.Dependency] = withBoringSSL ? ["peer-boringssl"] : []

/// Peers link only their own TLS library and PeerKit (no Foundation, no swift-crypto), so they start
/// in a few milliseconds; the runner holds certificates, scheduling and reports.
let package = Package(
    name: "interop-matrix",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "interop-matrix", targets: ["interop-matrix"]),
        .executable(name: "peer-openssl", targets: ["peer-openssl"]),
        .executable(name: "peer-mbedtls", targets: ["peer-mbedtls"]),
        .executable(name: "peer-gnutls", targets: ["peer-gnutls"]),
        .executable(name: "peer-wolfssl", targets: ["peer-wolfssl"]),
        .executable(name: "peer-nss", targets: ["peer-nss"]),
        .executable(name: "peer-botan", targets: ["peer-botan"]),
    ] + (withBoringSSL ? [.executable(name: "peer-boringssl", targets: ["peer-boringssl"])] : []),
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // BoringSSL, vendored by swift-nio-ssl as the module CNIOBoringSSL (symbols prefixed
        // CNIOBoringSSL_, so it links beside the system OpenSSL). Only the NIOSSL product is public,
        // so depending on it also builds swift-nio; the peer imports CNIOBoringSSL alone.
    ] + (withBoringSSL ? [.package(url: "https://github.com/apple/swift-nio-ssl", exact: "2.37.6")] : []),
    targets: [
        // One C shim per TLS library: the headers, the link line, and out-of-line wrappers for the
        // function-like macros and variadic functions Swift cannot import.
        .target(name: "CShimOpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(
            name: "CShimMbedTLS",
            linkerSettings: [.linkedLibrary("mbedtls"), .linkedLibrary("mbedx509"), .linkedLibrary("mbedcrypto")]
        ),
        .target(name: "CShimGnuTLS", linkerSettings: [.linkedLibrary("gnutls")]),
        .target(name: "CShimWolfSSL", linkerSettings: [.linkedLibrary("wolfssl")]),
        // Debian keeps NSS's and NSPR's headers in their own folders (pkg-config nss).
        .target(
            name: "CShimNSS",
            cSettings: [.unsafeFlags(["-I/usr/include/nss", "-I/usr/include/nspr"])],
            linkerSettings: [.linkedLibrary("ssl3"), .linkedLibrary("smime3"), .linkedLibrary("nss3"), .linkedLibrary("nssutil3"),
                             .linkedLibrary("plc4"), .linkedLibrary("plds4"), .linkedLibrary("nspr4")]
        ),

        // Botan 2's TLS API is C++ only: a small C++ shim gives it a C face (pkg-config botan-2).
        .target(
            name: "CShimBotan",
            cxxSettings: [.unsafeFlags(["-I/usr/include/botan-2", "-std=c++17"])],
            linkerSettings: [.linkedLibrary("botan-2"), .linkedLibrary("stdc++")]
        ),

        // Optimized even in debug builds: its transfer loops check and digest megabytes byte by
        // byte, which unoptimized code makes ten times slower (a first `swift run` included).
        // prctl(2), which is variadic, for workers that must end with the runner.
        .target(name: "CShimLinux"),
        .target(name: "PeerKit", dependencies: ["CShimLinux"], exclude: ["PEER-PROTOCOL.md", "schemas"], swiftSettings: [.unsafeFlags(["-O"], .when(configuration: .debug))]),
        .target(name: "OpenSSLPeer", dependencies: ["PeerKit", "CShimOpenSSL"]),
        .target(name: "MbedTLSPeer", dependencies: ["PeerKit", "CShimMbedTLS"]),
        .target(name: "GnuTLSPeer", dependencies: ["PeerKit", "CShimGnuTLS"]),
        .target(name: "WolfSSLPeer", dependencies: ["PeerKit", "CShimWolfSSL"]),
        .target(name: "NSSPeer", dependencies: ["PeerKit", "CShimNSS"],
                swiftSettings: [.unsafeFlags(["-Xcc", "-I/usr/include/nss", "-Xcc", "-I/usr/include/nspr"])]),
        .executableTarget(name: "peer-openssl", dependencies: ["OpenSSLPeer"]),
        .executableTarget(name: "peer-mbedtls", dependencies: ["MbedTLSPeer"]),
        .executableTarget(name: "peer-gnutls", dependencies: ["GnuTLSPeer"]),
        .executableTarget(name: "peer-wolfssl", dependencies: ["WolfSSLPeer"]),
        .executableTarget(name: "peer-nss", dependencies: ["NSSPeer"]),
        .target(name: "BotanPeer", dependencies: ["PeerKit", "CShimBotan"]),
        .executableTarget(name: "peer-botan", dependencies: ["BotanPeer"]),
        // A peer that misbehaves on purpose (hangs, crashes, prints garbage) so tests can prove the
        // runner reports such cells truthfully. Never part of a real matrix.
        .executableTarget(name: "fault-peer", dependencies: ["PeerKit", "OpenSSLPeer"]),
        // The benchmark's floor: the same cells' handshakes in one process, no process start-up.
        // Its engines are the <Name>Peer targets interop-floor depends on, listed by a plugin: add a
        // Swift peer's target here and the floor links it.
        .target(name: "HandshakeFloor", dependencies: ["PeerKit"]),
        .plugin(name: "FloorEnginesPlugin", capability: .buildTool(), path: "Sources/FloorEnginesPlugin"),
        .executableTarget(
            name: "interop-floor",
            dependencies: ["HandshakeFloor", "OpenSSLPeer", "MbedTLSPeer", "GnuTLSPeer", "WolfSSLPeer", "NSSPeer", "BotanPeer"] + (withBoringSSL ? ["BoringSSLPeer"] : []),
            plugins: ["FloorEnginesPlugin"]),

        .target(
            name: "InteropMatrix",
            dependencies: [
                "PeerKit",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Yams", package: "Yams"),
            ],
            // The built-in default matrix, carried beside the program; matrix/default.yml links to it.
            resources: [.copy("DefaultMatrix/default.yml")]
        ),
        .executableTarget(
            name: "interop-matrix",
            dependencies: [
                "InteropMatrix",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                // Building the runner builds the peers it spawns, so `swift run interop-matrix` is enough.
                "peer-openssl", "peer-mbedtls", "peer-gnutls", "peer-wolfssl", "peer-nss", "peer-botan", "interop-floor",
            ] + boringSSLPeer
        ),

        .testTarget(name: "PeerKitTests", dependencies: ["PeerKit"]),
        .testTarget(
            name: "InteropMatrixTests",
            dependencies: [
                "InteropMatrix", "peer-openssl", "peer-mbedtls", "peer-gnutls", "peer-wolfssl", "peer-nss", "peer-botan", "fault-peer", "interop-matrix",
                .product(name: "Yams", package: "Yams"),
            ] + boringSSLPeer
        ),
    ] + (withBoringSSL ? [
        .target(name: "BoringSSLPeer", dependencies: ["PeerKit", .product(name: "NIOSSL", package: "swift-nio-ssl")]),
        .executableTarget(name: "peer-boringssl", dependencies: ["BoringSSLPeer"]),
    ] : [])
)
