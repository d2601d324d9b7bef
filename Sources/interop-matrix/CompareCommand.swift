import ArgumentParser
import Foundation
import InteropMatrix

extension InteropMatrixCommand {
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "What changed from one JSON report to another: cells that regressed, were fixed, lost or gained support, fail differently, negotiate or refuse differently, new and vanished cells.",
            discussion: """
            Cells are matched by id. A library only NEW has is matched with one only OLD has when their \
            ids differ by a version suffix (mbedtls-3.6 and mbedtls); --as names the match yourself, \
            --exact matches none. Exit codes, as against a baseline: 1 a cell that passed no longer \
            does (or a cell that could not run now fails); 4 only improvements; 5 other changes only \
            (negotiated values, alerts, failures, new or vanished cells); 0 nothing changed; 64 a \
            report cannot be read; 3 an output cannot be written.
            """)

        @Argument(help: "The earlier report (JSON).")
        var old: String

        @Argument(help: "The later report (JSON).")
        var new: String

        @Option(name: .customLong("as"), help: ArgumentHelp("Compare NEW's library NEW_ID as OLD's OLD_ID (repeatable).", valueName: "NEW_ID=OLD_ID"))
        var renames: [String] = []

        @Flag(name: .long, help: "Match libraries by id only: no automatic matching of version suffixes.")
        var exact = false

        @Option(name: .long, help: "Write the comparison as JSON (interop-matrix/comparison/v1) here.")
        var json: String?

        @Option(name: .long, help: "Write the comparison as Markdown here.")
        var markdown: String?

        @Option(name: .long, help: "Write the comparison as a self-contained HTML page here.")
        var html: String?

        func validate() throws {
            _ = try renaming(old: [], new: [])
            for path in [json, markdown, html].compactMap({ $0 }) {
                do { try ReportFile(path).check() } catch { throw ValidationError("\(error)") }
            }
        }

        /// NEW id → OLD id: the automatic matches, then those --as names (which win).
        func renaming(old: [String], new: [String]) throws -> [String: String] {
            var result = exact ? [:] : ReportComparison.automaticRenames(oldLibraries: old, newLibraries: new)
            for text in renames {
                let parts = text.split(separator: "=", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    throw ValidationError("--as \(text): give NEW_ID=OLD_ID, e.g. --as mbedtls-3.6=mbedtls")
                }
                result = result.filter { $0.value != parts[1] }
                result[parts[0]] = parts[1]
            }
            return result
        }

        static func load(_ path: String) throws -> Report {
            do { return try Report.load(path: path) } catch { throw ValidationError("\(error)") }
        }

        func run() async throws {
            let before = try Self.load(old)
            let after = try Self.load(new)
            for (path, report) in [(old, before), (new, after)] where !report.complete {
                FileHandle.standardError.write(Data("interop-matrix: \(path) is an incomplete run: cells it did not reach count as new or vanished\n".utf8))
            }
            let renaming = try renaming(old: before.libraries.map(\.id), new: after.libraries.map(\.id))
            let comparison = ReportComparison(old: before, labeled: old, new: after, labeled: new, renaming: renaming)
            do {
                if let json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    try ReportFile(json).write(encoder.encode(comparison))
                }
                if let markdown { try ReportFile(markdown).write(Data(ComparisonReport.markdown(comparison).utf8)) }
                if let html { try ReportFile(html).write(Data(ComparisonReport.html(comparison).utf8)) }
            } catch {
                FileHandle.standardError.write(Data("interop-matrix: \(error)\n".utf8))
                throw ExitCode(3)
            }
            print(ComparisonReport.terminal(comparison), terminator: "")
            if comparison.exitCode != 0 { throw ExitCode(comparison.exitCode) }
        }
    }
}
