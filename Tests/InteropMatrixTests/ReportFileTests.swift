import Foundation
import PeerKit
import Testing
@testable import InteropMatrix

/// One rule for every report file (`--json`, `--markdown`, `--html`, `--junit`, `--update-baseline`):
/// devices and FIFOs written into, links' targets replaced whole, regular files replaced by rename,
/// failures in one line with the OS's words, checked before any cell runs.
@Suite("Report files", .serialized, .timeLimit(.minutes(3)))
struct ReportFileTests {
    let folder = TestFolders.make("interop-matrix-reportfiles")

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// One fast cell, no baseline.
    let oneCell = ["--libs", "openssl", "--filter", "basic/TLS1.3/default/default/ecdsa-p256/auth-none", "--no-baseline", "--quiet"]

    func entries() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() }

    @Test("a device is written into, never replaced: /dev/null stays the device for every format")
    func device() async throws {
        let run = try await runCLIKeepingErrors(oneCell + ["--json", "/dev/null", "--markdown", "/dev/null", "--html", "/dev/null", "--junit", "/dev/null"])
        #expect(run.status == 0, "\(run.errors)")
        var info = stat()
        #expect(stat("/dev/null", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR, "/dev/null is no longer a device")
    }

    @Test("a full device fails in one line naming the path and the OS error, exit 3")
    func diskFull() async throws {
        let run = try await runCLIKeepingErrors(oneCell + ["--json", "/dev/full"])
        #expect(run.status == 3)
        #expect(run.errorLines == ["interop-matrix: cannot write /dev/full: No space left on device"])
    }

    @Test("a FIFO is written into: its reader gets the whole report")
    func fifo() async throws {
        let fifo = path("report.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        // A reader of its own thread, reading to the end of what the runner writes.
        let reader = Task.detached { try await offPool { () -> Data in
            var fd: Int32
            repeat { fd = open(fifo, O_RDONLY | O_CLOEXEC) } while fd < 0 && errno == EINTR
            try #require(fd >= 0)
            defer { close(fd) }
            return TestChild.readAll(fd)
        } }
        let run = try await runCLIKeepingErrors(oneCell + ["--json", fifo])
        #expect(run.status == 0, "\(run.errors)")
        let data = try await reader.value
        let report = try JSONDecoder().decode(Report.self, from: data)
        #expect(report.complete && !report.results.isEmpty)
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
    }

    @Test("a report into a pipe nobody reads is an EPIPE error of that write, not a SIGPIPE death (status 141)")
    func brokenPipe() async throws {
        let run = try await offPool { () -> (Int32, String) in
            let process = try TestChild("\(Fixture.buildDirectory)/interop-matrix", oneCell + ["--json", "/dev/stdout"])
            // The reader goes away before the runner writes a byte.
            process.closeOutput()
            let text = process.readToEnd().errors
            return (process.wait(), String(decoding: text, as: UTF8.self))
        }
        #expect(run.0 == 3, "status \(run.0): \(run.1)")
        #expect(run.1 == "interop-matrix: cannot write /dev/stdout: Broken pipe\n")
    }

    @Test("a symbolic link keeps being a link; its target is replaced whole, the same for all four formats")
    func symlinks() async throws {
        var arguments = oneCell
        for (option, name) in [("--json", "r.json"), ("--markdown", "r.md"), ("--html", "r.html"), ("--junit", "r.xml")] {
            try "old\n".write(toFile: path("target-" + name), atomically: false, encoding: .utf8)
            chmod(path("target-" + name), 0o640)
            try FileManager.default.createSymbolicLink(atPath: path(name), withDestinationPath: "target-" + name)
            arguments += [option, path(name)]
        }
        let run = try await runCLIKeepingErrors(arguments)
        #expect(run.status == 0, "\(run.errors)")
        for name in ["r.json", "r.md", "r.html", "r.xml"] {
            #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path(name)) == "target-" + name, "\(name) is no longer the link")
            let text = try String(contentsOfFile: path("target-" + name), encoding: .utf8)
            #expect(text != "old\n" && text.count > 100, "\(name)'s target was not written")
            let mode = try FileManager.default.attributesOfItem(atPath: path("target-" + name))[.posixPermissions] as? Int
            #expect(mode == 0o640, "the replaced file keeps its permissions")
        }
        // No temporary file is left beside the targets.
        #expect(try entries().filter { $0.hasPrefix(".") }.isEmpty)
    }

    @Test("a failed write leaves the old file whole and no temporary file")
    func failedWriteLeavesNothing() throws {
        try "old\n".write(toFile: path("keep.json"), atomically: false, encoding: .utf8)
        struct Interrupted: Error {}
        #expect(throws: ReportFileError.self) {
            try ReportFile(path("keep.json")).write { url in
                try Data("half a rep".utf8).write(to: url)
                throw Interrupted()
            }
        }
        #expect(try String(contentsOfFile: path("keep.json"), encoding: .utf8) == "old\n")
        #expect(try entries() == ["keep.json"])
    }

    @Test("a folder given as a report path, a missing folder, a dangling link, a folder even root cannot write: exit 64 in one line before any cell runs",
          arguments: ["folder", "missing/r.json", "dangling", "/proc/r.json"])
    func refusedAtStart(name: String) async throws {
        try FileManager.default.createDirectory(atPath: path("folder"), withIntermediateDirectories: true)
        try? FileManager.default.createSymbolicLink(atPath: path("dangling"), withDestinationPath: "nowhere")
        // The full matrix would run for many seconds: a refusal at the start is immediate.
        let start = ContinuousClock.now
        let run = try await runCLIKeepingErrors(["--matrix", Fixture.packageRoot.appendingPathComponent("matrix/full.yml").path, "--quiet",
                                                 "--json", path("ok.json"), "--markdown", name.hasPrefix("/") ? name : path(name)])
        #expect(run.status == 64)
        #expect(run.errorLines.count == 1 && run.errorLines.first?.contains("cannot write \(name.hasPrefix("/") ? name : path(name))") == true, "\(run.errors)")
        // (A loose bound: a test process busy with the other suites has resumed this test 20 s late.)
        #expect(ContinuousClock.now - start < .seconds(40), "refused before the first cell (the whole matrix takes minutes)")
        #expect(!FileManager.default.fileExists(atPath: path("ok.json")))
    }

    @Test("a corrupt --baseline, or a corrupt baseline to update, is exit 64 in one line before any cell runs", arguments: [false, true])
    func corruptBaseline(update: Bool) async throws {
        try "{\"schema\": \"interop-matrix/baseline/v1\", \"cells\": [".write(toFile: path("corrupt.json"), atomically: false, encoding: .utf8)
        let start = ContinuousClock.now
        let run = try await runCLIKeepingErrors(["--matrix", Fixture.packageRoot.appendingPathComponent("matrix/full.yml").path, "--quiet",
                                                 "--baseline", path("corrupt.json"), "--json", path("r.json")] + (update ? ["--update-baseline"] : []))
        #expect(run.status == 64)
        #expect(run.errorLines.count == 1 && run.errorLines.first?.contains(path("corrupt.json")) == true, "\(run.errors)")
        // (A loose bound: a test process busy with the other suites has resumed this test 20 s late.)
        #expect(ContinuousClock.now - start < .seconds(40), "refused before the first cell (the whole matrix takes minutes)")
        #expect(!FileManager.default.fileExists(atPath: path("r.json")))
    }

    @Test("--update-baseline writes by the same rule: through a link, never half a file")
    func baselineThroughLink() async throws {
        try FileManager.default.createSymbolicLink(atPath: path("b.json"), withDestinationPath: "real-b.json")
        // A dangling link is refused at the start; a link to an existing baseline is followed.
        let refused = try await runCLIKeepingErrors(oneCell + ["--baseline", path("b.json"), "--update-baseline"])
        #expect(refused.status == 64)
        let first = try await runCLIKeepingErrors(oneCell + ["--baseline", path("real-b.json"), "--update-baseline"])
        #expect(first.status == 0, "\(first.errors)")
        let second = try await runCLIKeepingErrors(oneCell + ["--baseline", path("b.json"), "--update-baseline"])
        #expect(second.status == 0, "\(second.errors)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path("b.json")) == "real-b.json")
        let baseline = try Baseline.load(path: path("b.json"))
        #expect(!baseline.cells.isEmpty && baseline.cells.values.allSatisfy { $0.outcome == .pass })
    }
}
