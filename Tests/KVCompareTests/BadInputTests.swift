import Foundation
import KVCompare
import KVLoad
import Testing

@Suite("Comparison inputs")
struct BadInputTests {
    @Test func loadsFilesRunDirectoriesAndDirectoriesOfRuns() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (i, scale) in [1.0, 2, 3].enumerated() {
            try Reports.write(try Fixtures.result(scale: scale), to: dir + "/runs/run-\(i + 1)")
        }
        let runs = try SummaryLoader.load(dir + "/runs")
        #expect(runs.count == 3)
        #expect(runs.map(\.source) == (1...3).map { dir + "/runs/run-\($0)/summary.json" })
        #expect(runs[0].throughput > runs[1].throughput && runs[1].throughput > runs[2].throughput)
        #expect(try SummaryLoader.load(dir + "/runs/run-2") == [runs[1]])
        #expect(try SummaryLoader.load(dir + "/runs/run-3/summary.json") == [runs[2]])
    }

    @Test func missingPathsAndEmptyDirectories() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: CompareError.missing(dir + "/nope")) { try SummaryLoader.load(dir + "/nope") }
        #expect(throws: CompareError.noSummaries(dir)) { try SummaryLoader.load(dir) }
    }

    @Test func filesThatAreNotSummaries() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "operation,count\n".write(toFile: dir + "/summary.csv", atomically: true, encoding: .utf8)
        try "{\"binding\":\"null\"}".write(toFile: dir + "/other.json", atomically: true, encoding: .utf8)
        do {
            _ = try SummaryLoader.load(dir + "/summary.csv")
            Issue.record("a CSV file was accepted")
        } catch {
            #expect(error.description.contains("not a kvbench summary.json (not valid JSON)"))
        }
        do {
            _ = try SummaryLoader.load(dir + "/other.json")
            Issue.record("a JSON file without the summary keys was accepted")
        } catch {
            #expect(error.description.contains("not a kvbench summary.json (no \""))
        }
        let wrongType = Data("{\"binding\":\"null\",\"phase\":\"run\",\"threads\":\"two\"}".utf8)
        #expect(throws: CompareError.self) { try RunSummary.decode(wrongType, source: "x") }
    }

    @Test func mismatchedWorkloadsAreRefused() throws {
        let base = try Fixtures.runs([1])
        let otherBinding = try Fixtures.runs([1], binding: "redis")
        #expect(throws: CompareError.self) { try Comparison.compare(baseline: base, current: otherBinding) }
        let withInserts = [try Fixtures.summary(properties: ["readproportion": "0.4", "insertproportion": "0.1"])]
        do {
            _ = try Comparison.compare(baseline: base, current: withInserts)
            Issue.record("different operation mixes were compared")
        } catch {
            #expect(error.description.contains("operations READ/UPDATE"))
            #expect(error.description.contains("INSERT/READ/UPDATE"))
        }
        // Within one side, too.
        #expect(throws: CompareError.self) { try Comparison.compare(baseline: base + otherBinding, current: base) }
        // References must match each other.
        let refs = References(baseline: base, current: otherBinding)
        #expect(throws: CompareError.self) { try Comparison.compare(baseline: base, current: base, references: refs) }
    }

    @Test func unknownPercentilesAndThresholdNames() throws {
        let runs = try Fixtures.runs([1])
        do {
            _ = try Comparison.compare(baseline: runs, current: runs, options: ComparisonOptions(percentiles: [95]))
            Issue.record("p95 accepted")
        } catch {
            #expect(error.description.contains("percentile 95 is not in summary.json"))
        }
        var thresholds = Thresholds()
        try thresholds.addOverride("SCAN p99=50%")
        #expect(throws: CompareError.self) {
            try Comparison.compare(baseline: runs, current: runs, options: ComparisonOptions(thresholds: thresholds))
        }
        #expect(throws: CompareError.self) { try thresholds.addOverride("p99") }
    }

    @Test func referenceWithoutLatenciesServesThroughputOnly() throws {
        // A calibration loop's summary: throughput, no latencies.
        let stats = "{\"count\":100,\"p50_us\":0,\"p90_us\":0,\"p99_us\":0,\"p999_us\":0,\"p9999_us\":0}"
        let text = "{\"binding\":\"calibration\",\"phase\":\"run\",\"threads\":1,\"open_loop\":false,\"achieved_ops\":1000,"
            + "\"elapsed_s\":0.1,\"overall\":\(stats),\"operations_detail\":[]}"
        let calibration = try RunSummary.decode(Data(text.utf8), source: "calibration")
        let refs = References(baseline: [calibration], current: [calibration])
        let runs = try Fixtures.runs([1])
        do {
            _ = try Comparison.compare(baseline: runs, current: runs, references: refs)
            Issue.record("divided a latency by a zero reference")
        } catch {
            #expect(error.description.contains("has no OVERALL p50"))
        }
        let throughputOnly = ComparisonOptions(percentiles: [])
        let report = try Comparison.compare(baseline: runs, current: runs, references: refs, options: throughputOnly)
        #expect(report.metrics.count == 3)
        #expect(!report.regressed)
    }
}
