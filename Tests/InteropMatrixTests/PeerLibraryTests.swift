import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// Finding peers: the built-in folder, then each folder of INTEROP_MATRIX_PEER_PATH.
@Suite("Peer discovery", .timeLimit(.minutes(2)))
struct PeerLibraryTests {
    /// A folder holding one peer of "one's own": a lying fault peer, which answers capabilities as the
    /// OpenSSL peer beside it does, under its own id.
    func externalPeerFolder() throws -> String {
        let folder = TestFolders.make("interop-matrix-external-peers").path
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/peer-noverify", withDestinationPath: "\(Fixture.buildDirectory)/fault-peer")
        try FileManager.default.createSymbolicLink(atPath: "\(folder)/peer-openssl", withDestinationPath: "\(Fixture.buildDirectory)/peer-openssl")
        return folder
    }

    @Test("a peer in a folder of INTEROP_MATRIX_PEER_PATH joins a run beside the built-in peers, with no rebuild")
    func externalPeerJoins() async throws {
        let folder = try externalPeerFolder()
        let environment = ["INTEROP_MATRIX_PEER_PATH": "/nonexistent:\(folder)"]
        let capabilities = try await runCLIKeepingErrors(["capabilities", "--libs", "openssl", "noverify"], environment: environment)
        #expect(capabilities.status == 0)
        #expect(capabilities.output.contains("noverify"))
        // A folder that cannot be read is said, not passed over.
        #expect(capabilities.errors.contains("INTEROP_MATRIX_PEER_PATH names /nonexistent, which cannot be read (No such file or directory)"), "\(capabilities.errors)")
        // The lying client is caught by the refusal it should have made; the built-in server is found too.
        let run = try await runCLI(["--servers", "openssl", "--clients", "noverify", "--filter", "/expired-cert/TLS1.3/", "--no-baseline", "--quiet"],
                                   environment: environment)
        #expect(run.status == 1, "\(run.output)")
        #expect(run.output.contains("openssl>noverify/expired-cert/TLS1.3"))
        // Without the path it is unknown, and the error names where it looked.
        let unknown = try await runCLI(["capabilities", "--libs", "noverify"])
        #expect(unknown.status == 64)
    }

    @Test("a peer whose capabilities never answer is killed at the bound and listed as unavailable, with why")
    func hungCapabilities() async throws {
        let folder = TestFolders.make("interop-matrix-hung-capabilities").path
        try "#!/bin/sh\nsleep 600\n".write(toFile: "\(folder)/peer-mute", atomically: true, encoding: .utf8)
        chmod("\(folder)/peer-mute", 0o755)
        var catalog = PeerCatalog(directory: folder)
        catalog.capabilitiesTimeout = .milliseconds(500)
        let started = ContinuousClock.now
        let loaded = try await catalog.load(["mute"], tolerating: ["mute"])
        // Killed long before its sleep ends (a loaded machine running the other suites beside it
        // took 7 s to get there once; the mute peer sleeps 600).
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(loaded.libraries.isEmpty)
        #expect(loaded.unavailable.map(\.id) == ["mute"])
        #expect(loaded.unavailable.first?.reason.contains("no answer within") == true, "\(loaded.unavailable)")
    }

    @Test("the built-in folder comes first; a later folder only adds what it lacks")
    func builtInFirst() throws {
        let folder = try externalPeerFolder()
        var catalog = PeerCatalog(directory: Fixture.buildDirectory)
        catalog.extraDirectories = [folder]
        #expect(catalog.executable(for: "openssl") == "\(Fixture.buildDirectory)/peer-openssl")
        #expect(catalog.executable(for: "noverify") == "\(folder)/peer-noverify")
        #expect(catalog.executable(for: "nosuch") == "\(Fixture.buildDirectory)/peer-nosuch")
    }

    @Test("peers built outside SwiftPM are looked for in the build folder's peers/, whatever the configuration's folder")
    func peersFolder() {
        #expect(PeerCatalog.peersFolder(besides: "/r/.build/x86_64-unknown-linux-gnu/debug") == "/r/.build/peers")
        #expect(PeerCatalog.peersFolder(besides: "/r/.build/release") == "/r/.build/peers")
        #expect(PeerCatalog.peersFolder(besides: "/r/.build_ci/debug") == "/r/.build_ci/peers")
        #expect(PeerCatalog.peersFolder(besides: "/usr/local/bin") == nil)
        let catalog = PeerCatalog(directory: "/r/.build/debug")
        #expect(catalog.folders.prefix(2) == ["/r/.build/debug", "/r/.build/peers"])
    }

    @Test("a peer whose toolchain was missing is listed by all as unavailable, with the reason its build left")
    func notBuilt() async throws {
        let folder = TestFolders.make("interop-matrix-not-built").path
        try "no Go toolchain: ci/setup installs one\n".write(toFile: "\(folder)/peer-gone.unavailable", atomically: true, encoding: .utf8)
        var catalog = PeerCatalog(directory: folder)
        catalog.extraDirectories = []
        #expect(catalog.discoverIDs() == ["gone"])
        let loaded = try await catalog.load(["gone"], tolerating: ["gone"])
        #expect(loaded.libraries.isEmpty)
        #expect(loaded.unavailable.map(\.id) == ["gone"])
        #expect(loaded.unavailable.first?.reason.contains("not built") == true && loaded.unavailable.first?.reason.contains("no Go toolchain") == true,
                "\(loaded.unavailable)")
        // Named on its own, it is an error with that reason.
        await #expect { try await catalog.load(["gone"]) } throws: { ($0 as? CatalogError)?.message.contains("no Go toolchain") == true }
        // Once built, the executable wins over a stale marker.
        try "#!/bin/sh\nexit 1\n".write(toFile: "\(folder)/peer-gone", atomically: true, encoding: .utf8)
        chmod("\(folder)/peer-gone", 0o755)
        #expect(catalog.notBuiltReason("gone") == nil)
    }
}
