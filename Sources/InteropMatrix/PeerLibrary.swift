import Foundation
import Subprocess
#if canImport(System)
import System
#else
import SystemPackage
#endif

/// A TLS library taking part in a run: its peer executable and what it said about itself.
public struct PeerLibrary: Sendable {
    public var id: String
    public var executable: String
    public var capabilities: PeerCapabilities

    public var name: String { capabilities.library.name }
    public var version: String { capabilities.library.version }
}

/// A peer that was found but cannot take part: its `capabilities` failed. Listed in the report and
/// on stderr, never dropped in silence.
public struct UnavailableLibrary: Codable, Sendable, Equatable {
    public var id: String
    public var executable: String
    public var reason: String
}

/// Finds peer executables (`peer-<id>`) and asks each for its capabilities.
public struct PeerCatalog: Sendable {
    /// The word a matrix or `--libs` uses for every library found.
    public static let everyLibrary = "all"

    /// Where the built-in `peer-<id>` executables live: beside the running `interop-matrix` (SwiftPM
    /// builds them into the same folder), unless `INTEROP_MATRIX_PEER_DIR` names another.
    public var directory: String
    /// More folders to look in, after `directory`: those of `INTEROP_MATRIX_PEER_PATH`
    /// (colon-separated), so a peer of one's own sits beside the built-in ones without a rebuild.
    public var extraDirectories: [String] = []
    /// Where peers that SwiftPM does not build (written in Go, Java, …) are built to, by
    /// `ci/build-peers`: `peers/` in the SwiftPM build folder that holds `directory`
    /// (`.build/peers` for `.build/debug`); nil when `directory` is not in one.
    public var builtOutsideSwiftPM: String?
    /// How long `peer-<id> capabilities` may take before the peer is killed and listed as
    /// unavailable: a JVM peer answers in seconds, a hung one never.
    public var capabilitiesTimeout: Duration = .seconds(20)

    public init(directory: String? = nil) {
        let environment = ProcessInfo.processInfo.environment
        if let directory {
            self.directory = directory
        } else if let fromEnvironment = environment["INTEROP_MATRIX_PEER_DIR"] {
            self.directory = fromEnvironment
        } else {
            self.directory = PeerCatalog.executableDirectory()
        }
        builtOutsideSwiftPM = PeerCatalog.peersFolder(besides: self.directory)
        extraDirectories = (environment["INTEROP_MATRIX_PEER_PATH"] ?? "").split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// `…/.build/peers` for a folder inside `…/.build/` (any `.build*` scratch folder).
    static func peersFolder(besides folder: String) -> String? {
        let components = (folder as NSString).pathComponents
        guard let build = components.lastIndex(where: { $0.hasPrefix(".build") }) else { return nil }
        return NSString.path(withComponents: Array(components[...build]) + ["peers"])
    }

    /// Every folder searched, in order: the first that has a `peer-<id>` gives that id's peer.
    public var folders: [String] { [directory] + (builtOutsideSwiftPM.map { [$0] } ?? []) + extraDirectories }

    /// What a peer's build left when its toolchain was missing: `peer-<id>.unavailable`, whose text
    /// says why (`ci/build-peers` writes it). Only where no folder has the executable.
    func notBuiltReason(_ id: String) -> String? {
        guard !folders.contains(where: { FileManager.default.isExecutableFile(atPath: ($0 as NSString).appendingPathComponent("peer-\(id)")) }) else { return nil }
        for folder in folders {
            let marker = (folder as NSString).appendingPathComponent("peer-\(id).unavailable")
            if let text = try? String(contentsOfFile: marker, encoding: .utf8) {
                let reason = text.trimmingCharacters(in: .whitespacesAndNewlines)
                return "not built (\(marker)): " + (reason.isEmpty ? "its build left no reason" : reason)
            }
        }
        return nil
    }

    static func executableDirectory() -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (path as NSString).deletingLastPathComponent
    }

    /// `peer-<id>` in the first folder that has it (the built-in folder first); the built-in
    /// folder's path when none has it, so an error names where it was expected.
    public func executable(for id: String) -> String {
        for folder in folders {
            let path = (folder as NSString).appendingPathComponent("peer-\(id)")
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return (directory as NSString).appendingPathComponent("peer-\(id)")
    }

    /// Every `peer-<id>` executable in the built-in folders and those of
    /// `INTEROP_MATRIX_PEER_PATH`, by id (the first folder that has an id wins), in id order: what
    /// `all` means. Build products (`peer-openssl.product/`) and files that are not executable are
    /// not peers; a `peer-<id>.unavailable` a build left is one, listed unavailable with its reason.
    public func discoverIDs() -> [String] {
        var found = Set<String>()
        for folder in folders {
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where entry.hasPrefix("peer-") {
                if entry.hasSuffix(".unavailable"), case let id = String(entry.dropFirst(5).dropLast(12)), PeerCatalog.isLibraryID(id) {
                    found.insert(id)
                    continue
                }
                let id = String(entry.dropFirst(5))
                guard PeerCatalog.isLibraryID(id) else { continue }
                var isDirectory: ObjCBool = false
                let path = (folder as NSString).appendingPathComponent(entry)
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                      FileManager.default.isExecutableFile(atPath: path) else { continue }
                found.insert(id)
            }
        }
        return found.sorted()
    }

    /// The folders of `INTEROP_MATRIX_PEER_PATH` that cannot be listed, with the system's reason:
    /// a mistyped folder would otherwise leave its peers out of `all` without a word.
    public func unreadableFolders() -> [(folder: String, reason: String)] {
        extraDirectories.compactMap { folder in
            guard let listing = opendir(folder) else { return (folder, String(cString: strerror(errno))) }
            closedir(listing)
            return nil
        }
    }

    /// A library id as reports write it (`^[a-z0-9][a-z0-9_.-]*$`).
    public static func isLibraryID(_ id: String) -> Bool {
        id.range(of: "^[a-z0-9][a-z0-9_.-]*$", options: .regularExpression) != nil
    }

    /// Asks every library in `ids` for its capabilities; those in `tolerated` whose capabilities
    /// fail are returned as unavailable instead of failing the load (what `all` asks for). A named
    /// library that fails still fails the load.
    public func load(_ ids: [String], tolerating tolerated: Set<String>) async throws(CatalogError) -> (libraries: [String: PeerLibrary], unavailable: [UnavailableLibrary]) {
        let strict = ids.filter { !tolerated.contains($0) }
        var libraries = try await load(strict)
        var unavailable: [UnavailableLibrary] = []
        let lenient = Array(Set(ids.filter(tolerated.contains)))
        let outcomes = await withTaskGroup(of: (String, Result<PeerLibrary, CatalogError>).self) { group in
            for id in lenient {
                group.addTask {
                    do { return (id, .success(try await self.capabilities(of: id))) }
                    catch let error as CatalogError { return (id, .failure(error)) }
                    catch { return (id, .failure(CatalogError(message: "\(error)"))) }
                }
            }
            var outcomes: [(String, Result<PeerLibrary, CatalogError>)] = []
            for await outcome in group { outcomes.append(outcome) }
            return outcomes
        }
        for (id, outcome) in outcomes.sorted(by: { $0.0 < $1.0 }) {
            switch outcome {
            case .success(let library): libraries[id] = library
            case .failure(let error): unavailable.append(UnavailableLibrary(id: id, executable: executable(for: id), reason: error.message))
            }
        }
        return (libraries, unavailable)
    }

    /// The folders searched, for messages.
    var searched: String { folders.joined(separator: ":") }

    /// Runs `peer-<id> capabilities` for each library, in parallel.
    public func load(_ ids: [String]) async throws(CatalogError) -> [String: PeerLibrary] {
        var missing: [String] = []
        for id in ids where !FileManager.default.isExecutableFile(atPath: executable(for: id)) { missing.append(id) }
        if let id = missing.first, let reason = notBuiltReason(id) {
            throw CatalogError(missingLibrary: true, message: "library '\(id)': \(reason)")
        }
        if !missing.isEmpty {
            throw CatalogError(missingLibrary: true, message: "unknown library \(missing.map { "'\($0)'" }.joined(separator: ", ")): no peer executable for \(missing.joined(separator: ", ")) in \(searched) (expected \(missing.map { "peer-\($0)" }.joined(separator: ", ")); build them with `swift build`)")
        }
        do {
            return try await withThrowingTaskGroup(of: PeerLibrary.self) { group in
                for id in Set(ids) {
                    group.addTask { try await self.capabilities(of: id) }
                }
                var libraries: [String: PeerLibrary] = [:]
                for try await library in group { libraries[library.id] = library }
                return libraries
            }
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(message: "\(error)")
        }
    }

    /// The peer at `path` (`…/peer-<id>`), wherever it is: what `check-peer PATH` examines.
    public static func library(at path: String) async throws -> PeerLibrary {
        let file = (path as NSString).lastPathComponent
        guard file.hasPrefix("peer-"), FileManager.default.isExecutableFile(atPath: path) else {
            throw CatalogError(missingLibrary: true, message: "\(path) is not an executable named peer-<id>")
        }
        return try await PeerCatalog(directory: (path as NSString).deletingLastPathComponent).capabilities(of: String(file.dropFirst(5)))
    }

    func capabilities(of id: String) async throws -> PeerLibrary {
        if let reason = notBuiltReason(id) { throw CatalogError(missingLibrary: true, message: reason) }
        let path = executable(for: id)
        // Killed with its process group if it does not answer in time.
        let watch = PeerWatch()
        let result = try await PeerProcess.killable(watch) { options in
            try await PeerProcess.retryingTextFileBusy { try await Subprocess.run(.path(FilePath(path)), arguments: ["capabilities"], platformOptions: options,
                                     input: .none, output: .sequence, error: .sequence) { execution in
                let pid = execution.processIdentifier.value
                watch.started(pid)
                watch.arm(killing: pid, at: .now + capabilitiesTimeout, reason: .deadline)
                async let said = PeerProcess.boundedText(execution.standardError, limit: 64 << 10)
                let line = await PeerProcess.boundedText(execution.standardOutput, limit: 4 << 20)
                return (line, await said)
            } }
        }
        let (line, said) = result.closureResult
        if watch.killReason == .deadline {
            throw CatalogError(message: "\(path) capabilities: no answer within \(capabilitiesTimeout), killed")
        }
        guard result.terminationStatus.isSuccess else {
            // The peer's own last words (a missing shared library, its usage error) say why.
            let last = said.split(separator: "\n").last.map { ": \($0)" } ?? ""
            throw CatalogError(message: "\(path) capabilities: \(result.terminationStatus)\(last)")
        }
        do {
            let capabilities = try JSONDecoder().decode(PeerCapabilities.self, from: Data(line.utf8))
            guard capabilities.library.id == id else {
                throw CatalogError(message: "\(path) says it is '\(capabilities.library.id)', not '\(id)'")
            }
            return PeerLibrary(id: id, executable: path, capabilities: capabilities)
        } catch let error as CatalogError {
            throw error
        } catch {
            throw CatalogError(message: "\(path) capabilities: not the JSON of the peer protocol: \(error)")
        }
    }
}

/// A library that cannot take part: no executable, or it does not answer `capabilities`.
public struct CatalogError: Error, CustomStringConvertible, Sendable {
    /// True when the error is a library id with no peer: bad input rather than a broken machine.
    public var missingLibrary = false
    public var message: String
    public var description: String { message }
}
