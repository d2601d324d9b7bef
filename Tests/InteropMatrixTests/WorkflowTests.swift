import Foundation
import Testing
import Yams

@Suite("The CI workflow")
struct WorkflowTests {
    @Test("ci/github/interop-matrix.yml is valid YAML of a workflow, and runs exactly the commands the README documents")
    func workflowMatchesReadme() throws {
        let root = Fixture.packageRoot
        let text = try String(contentsOf: root.appendingPathComponent("ci/github/interop-matrix.yml"), encoding: .utf8)
        let workflow = try #require(try Yams.load(yaml: text) as? [String: Any])
        let jobs = try #require(workflow["jobs"] as? [String: Any])
        #expect(Set(jobs.keys) == ["test", "quick", "shard", "merge", "deep-shard", "deep-merge"])
        var commands: [String] = []
        for case let job as [String: Any] in jobs.values {
            #expect(job["runs-on"] != nil)
            for case let step as [String: Any] in (job["steps"] as? [Any]) ?? [] {
                if let run = step["run"] as? String { commands += run.split(separator: "\n").map(String.init) }
            }
        }
        #expect(commands.count >= 4)
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let documented = Set(readme.split(separator: "\n").map(String.init))
        for command in commands {
            #expect(documented.contains(command), "README.md does not document: \(command)")
        }
        #expect(commands.contains { $0.contains("--shard") } && commands.contains { $0.contains(" merge ") })
        #expect(commands.contains { $0.contains("GITHUB_STEP_SUMMARY") })
        // The tiers: the quick matrix on every push, the full one only on a schedule or by hand.
        #expect(commands.contains { $0.contains("matrix/quick.yml") })
        let on = try #require(workflow["on"] as? [String: Any])
        #expect(on["schedule"] != nil && on["push"] != nil)
        #expect(((jobs["shard"] as? [String: Any])?["if"] as? String)?.contains("schedule") == true)
        // The weekly tier: matrix/deep.yml on its own schedule, sharded, merged, gating on its baseline.
        let crons = ((on["schedule"] as? [Any]) ?? []).compactMap { ($0 as? [String: Any])?["cron"] as? String }
        #expect(crons.count == 2)
        let deepIf = try #require((jobs["deep-shard"] as? [String: Any])?["if"] as? String)
        #expect(crons.contains { deepIf.contains($0) } && !(((jobs["shard"] as? [String: Any])?["if"] as? String) ?? "").contains(crons.first { deepIf.contains($0) } ?? "-"))
        #expect(commands.contains { $0.contains("matrix/deep.yml") && $0.contains("--baseline matrix/expected/deep.json") && $0.contains("--shard") })
        #expect(commands.contains { $0.contains(" merge out/deep-shard-") } && commands.contains { $0.contains("out/deep.md >> \"$GITHUB_STEP_SUMMARY\"") })
    }
}
