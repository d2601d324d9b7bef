import Foundation
import Testing
@testable import InteropMatrix

@Suite("Benchmark", .timeLimit(.minutes(2)))
struct BenchmarkTests {
    @Test("interop-matrix, the floor and the naive way time the same cells, and the table says where the time goes")
    func sameCells() async throws {
        let matrix = try MatrixFile(yaml: """
        servers: [openssl, gnutls]
        clients: [gnutls, mbedtls]
        versions: [TLS1.2, TLS1.3]
        certs: [ecdsa-p256]
        client_auth: [none]
        network: [none, delay-50ms]

        """, source: "bench.yml")
        let run = MatrixRun(matrix: matrix, catalog: PeerCatalog(directory: Fixture.shared.peerDirectory), timeout: .seconds(10))
        let results = try await Benchmark(run: run, jobs: [1, 2]).measure()
        // TLS 1.3 with Mbed TLS 2.28 is unsupported and the delayed network is left out: 6 cells.
        #expect(results.runs.map(\.cells) == [6, 6])
        #expect(results.floor?.cells == 6)
        #expect(results.naive?.cells == 6)
        let table = Benchmark.table(results)
        #expect(table.contains("interop-matrix / floor"))
        #expect(table.contains("Where the time goes"))
    }
}
