import Foundation
import Testing
@testable import KVWorkload

@Suite("Shipped workload files")
struct WorkloadFileTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("workloads")

    static let names = ["workloada", "workloadb", "workloadc", "workloadd", "workloade", "workloadf",
                        "workload_celebrity", "workload_deleteheavy", "workload_writeonly", "workload_template"]

    static func load(_ name: String) throws -> WorkloadSpec {
        try WorkloadSpec.load(files: [directory.appendingPathComponent(name).path], overrides: [])
    }

    @Test("every shipped file parses without typo warnings and drives a stream", arguments: names)
    func parses(name: String) throws {
        let spec = try Self.load(name)
        #expect(spec.properties.typoWarnings().isEmpty)
        var s = OperationStream(spec: spec, phase: .run)
        for _ in 0..<1000 {
            let op = s.next()
            if op.kind == .insert { s.acknowledgeInsert(keyNumber: op.keyNumber) }
        }
    }

    @Test("A–F have YCSB's exact mixes and distributions")
    func coreMixes() throws {
        // read, update, insert, scan, rmw, delete
        let expected: [String: ([Double], WorkloadSpec.RequestDistribution)] = [
            "workloada": ([0.5, 0.5, 0, 0, 0, 0], .zipfian),
            "workloadb": ([0.95, 0.05, 0, 0, 0, 0], .zipfian),
            "workloadc": ([1, 0, 0, 0, 0, 0], .zipfian),
            "workloadd": ([0.95, 0, 0.05, 0, 0, 0], .latest),
            "workloade": ([0, 0, 0.05, 0.95, 0, 0], .zipfian),
            "workloadf": ([0.5, 0, 0, 0, 0.5, 0], .zipfian),
        ]
        for (name, (mix, distribution)) in expected {
            let spec = try Self.load(name)
            #expect(spec.proportions == mix, "\(name)")
            #expect(spec.requestDistribution == distribution, "\(name)")
            #expect(spec.recordCount == 1000 && spec.operationCount == 1000, "\(name)")
            #expect(spec.readAllFields && spec.fieldCount == 10 && spec.fieldLength == 100, "\(name)")
            #expect(spec.properties["workload"] == "site.ycsb.workloads.CoreWorkload", "\(name)")
        }
        let e = try Self.load("workloade")
        #expect(e.maxScanLength == 100 && e.scanLengthDistribution == .uniform)
    }

    @Test("our profiles: celebrity is very hot, delete-heavy deletes, write-only writes")
    func ourProfiles() throws {
        let celebrity = try Self.load("workload_celebrity")
        var s = OperationStream(spec: celebrity, phase: .run)
        var counts: [Int64: Int] = [:]
        for _ in 0..<100_000 { counts[s.next().keyNumber, default: 0] += 1 }
        let top5 = counts.values.sorted(by: >).prefix(5).reduce(0, +)
        #expect(top5 > 50_000)  // a handful of keys take most of the traffic
        #expect(try Self.load("workload_deleteheavy").deleteProportion > 0)
        let writes = try Self.load("workload_writeonly")
        #expect(writes.readProportion == 0 && writes.scanProportion == 0 && writes.readModifyWriteProportion == 0)
    }
}
