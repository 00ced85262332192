import Foundation
import KVCompare
import KVLoad
import Testing

@Suite("Comparison of runs")
struct ComparisonTests {
    @Test func readsTheRealSummary() throws {
        let r = try Fixtures.result()
        let s = try RunSummary.decode(Data(Reports.summaryJSON(r).utf8), source: "x")
        #expect(s.binding == "timed")
        #expect(s.phase == "run")
        #expect(!s.openLoop)
        #expect(Set(s.operations.map(\.name)) == ["READ", "UPDATE"])
        #expect(abs(s.throughput - r.throughput) / r.throughput < 1e-3)
        let read = try #require(s.operations.first { $0.name == "READ" })
        // Reads take 10–19 µs on the stepped clock.
        let p50 = try #require(read.service.percentiles[50])
        #expect(p50 >= 10 && p50 < 20)
        let readThroughput = try #require(Metric(operation: "READ", quantity: .throughput).value(in: s))
        #expect(abs(readThroughput - Double(read.service.count) / s.elapsedSeconds) < 1e-9)
    }

    @Test func unchangedRunsPass() throws {
        let report = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1]))
        #expect(!report.regressed)
        #expect(report.metrics.allSatisfy { $0.verdict == .ok && $0.change == 0 })
        // OVERALL, READ, UPDATE × throughput, p50, p99.
        #expect(report.metrics.count == 9)
    }

    @Test func halvedThroughputIsARegression() throws {
        let report = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([2]))
        #expect(report.regressed)
        #expect(report.verdict("OVERALL throughput") == .worse)
        #expect(report.verdict("READ throughput") == .worse)
        #expect(report.verdict("UPDATE p99") == .worse)
        let overall = try #require(report.metrics.first)
        #expect(abs(overall.change + 0.5) < 0.01, "half the throughput: -50 %")
        #expect(report.table.contains("result: REGRESSION in OVERALL throughput"))
    }

    @Test func smallChangeWithinTheLimitIsOK() throws {
        // 5 % slower: inside the default 10 % throughput and 20 % latency limits.
        let report = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1.05]))
        #expect(!report.regressed)
        #expect(report.metrics.allSatisfy { $0.verdict == .ok })
    }

    @Test func fasterIsBetterNotARegression() throws {
        let report = try Comparison.compare(baseline: Fixtures.runs([2]), current: Fixtures.runs([1]))
        #expect(!report.regressed)
        #expect(report.verdict("OVERALL throughput") == .better)
        #expect(report.verdict("READ p50") == .better)
    }

    @Test func changeWithinTheSpreadOfRepeatedRunsIsNoise() throws {
        // Baseline runs disagree by 50 % among themselves; the current median is 25 % slower.
        let noisy = try Comparison.compare(baseline: Fixtures.runs([0.8, 1, 1.3]), current: Fixtures.runs([1.25, 1.25, 1.25]))
        #expect(!noisy.regressed)
        #expect(noisy.verdict("OVERALL throughput") == .noise)
        let row = try #require(noisy.metrics.first)
        #expect(row.baseline.values.count == 3)
        #expect(row.noiseFloor > 0.4)
        // The same spread does not hide a 2× slowdown.
        let slow = try Comparison.compare(baseline: Fixtures.runs([0.8, 1, 1.3]), current: Fixtures.runs([2, 2.1, 1.9]))
        #expect(slow.regressed)
        #expect(slow.verdict("OVERALL throughput") == .worse)
    }

    @Test func mediansIgnoreOneOutlier() throws {
        // One of three current runs was hit by a neighbour (3× slower); the median is unchanged.
        let report = try Comparison.compare(baseline: Fixtures.runs([1, 1, 1]), current: Fixtures.runs([1, 3, 1]))
        #expect(report.verdict("OVERALL throughput") != .worse)
        #expect(!report.regressed)
    }

    @Test func spreadSetsAsideOneOutlierFromFiveRuns() {
        #expect(Sample([1, 2, 3]).median == 2)
        #expect(Sample([1, 2, 3, 4]).median == 2.5)
        #expect(Sample([10, 11, 9]).spread == 0.2)
        #expect(Sample([7]).spread == 0)
        // Five runs, one of them 3x off: the spread is that of the other four's middle three.
        let five = Sample([10, 10.5, 9.5, 30, 10])
        #expect(abs(five.spread - 0.05) < 1e-12)
        // The same outlier among three runs counts fully.
        #expect(Sample([10, 30, 10]).spread == 2)
    }

    @Test func normalisingByAReferenceCancelsASlowerMachine() throws {
        // The current job ran on a machine twice as slow: the store and the reference both halve.
        let baseline = try Fixtures.runs([1, 1, 1])
        let current = try Fixtures.runs([2, 2, 2])
        let raw = try Comparison.compare(baseline: baseline, current: current)
        #expect(raw.regressed)
        let refs = References(baseline: try Fixtures.runs([1, 1, 1], binding: "ref"), current: try Fixtures.runs([2, 2, 2], binding: "ref"))
        let normalised = try Comparison.compare(baseline: baseline, current: current, references: refs)
        #expect(normalised.normalized)
        #expect(!normalised.regressed)
        #expect(normalised.metrics.allSatisfy { $0.verdict == .ok && abs($0.change) < 1e-3 })
        // Each metric is set against the same metric of the reference: the runs against themselves give 1.
        #expect(normalised.metrics.allSatisfy { abs($0.baseline.median - 1) < 1e-9 }, "READ p50 ÷ reference READ p50, not ÷ OVERALL p50")
        // A real 2× regression on that slower machine is still caught.
        let regressed = try Comparison.compare(baseline: baseline, current: Fixtures.runs([4, 4, 4]), references: refs)
        #expect(regressed.regressed)
        #expect(regressed.verdict("OVERALL throughput") == .worse)
        #expect(regressed.verdict("READ p99") == .worse)
    }

    @Test func pairedReferencesCancelDriftWithinAJob() throws {
        // The machine slows down during the current job (1×, 1.5×, 2×): each run is divided by its own
        // reference measured back to back, so the ratios agree and no noise is reported.
        let refs = References(baseline: try Fixtures.runs([1, 1, 1], binding: "ref"),
                              current: try Fixtures.runs([1, 1.5, 2], binding: "ref"))
        let report = try Comparison.compare(baseline: Fixtures.runs([1, 1, 1]), current: Fixtures.runs([1, 1.5, 2]), references: refs)
        #expect(!report.regressed)
        let row = try #require(report.metrics.first)
        #expect(row.current.spread < 1e-3)
        // With an unequal number of reference runs the median reference is used instead.
        let median = References(baseline: refs.baseline, current: try Fixtures.runs([1.5], binding: "ref"))
        let unpaired = try Comparison.compare(baseline: Fixtures.runs([1, 1, 1]), current: Fixtures.runs([1, 1.5, 2]), references: median)
        #expect(try #require(unpaired.metrics.first).current.spread > 0.5)
    }

    @Test func excessOverAReferenceMagnifiesTheMeasuredPart() throws {
        // The reference (a null store) costs 10 µs per operation; the store adds 2 µs to reads and 4 µs to
        // updates. A plant doubles the store's part: +17 % end to end on reads, +100 % of the excess.
        let options = ComparisonOptions(thresholds: Thresholds(maxThroughputDrop: .factor(1.5), maxLatencyRise: .factor(1.5)))
        let ref = try Fixtures.runs([1, 1, 1], read: 10_000, update: 10_000, binding: "null")
        let baseline = try Fixtures.runs([1, 1, 1], read: 12_000, update: 14_000)
        let planted = try Fixtures.runs([1, 1, 1], read: 14_000, update: 18_000)
        let ratio = try Comparison.compare(baseline: baseline, current: planted, references: References(baseline: ref, current: ref),
                                           options: options)
        #expect(!ratio.regressed, "ratios: the plant is under 1.5x end to end")
        let excess = References(baseline: ref, current: ref, normalization: .excess)
        let caught = try Comparison.compare(baseline: baseline, current: planted, references: excess, options: options)
        #expect(caught.normalization == .excess)
        #expect(caught.regressed)
        for name in ["OVERALL throughput", "READ p50", "UPDATE p99"] { #expect(caught.verdict(name) == .worse, "\(name)") }
        let readP50 = try #require(caught.metrics.first { $0.metric.name == "READ p50" })
        #expect(abs(readP50.baseline.median - 0.2) < 0.01 && abs(readP50.change - 1) < 0.05)
        #expect(caught.metrics.allSatisfy { !$0.higherIsBetter }, "an excess is a cost")
        // A machine twice as slow (store and reference alike) changes no excess.
        let slowMachine = References(baseline: ref, current: try Fixtures.runs([2, 2, 2], read: 10_000, update: 10_000, binding: "null"),
                                     normalization: .excess)
        let same = try Comparison.compare(baseline: baseline, current: Fixtures.runs([2, 2, 2], read: 12_000, update: 14_000),
                                          references: slowMachine, options: options)
        #expect(same.metrics.allSatisfy { $0.verdict == .ok && abs($0.change) < 0.01 })
        // A faster store is better.
        let faster = try Comparison.compare(baseline: planted, current: baseline, references: excess)
        #expect(faster.verdict("UPDATE p50") == .better)
        #expect(!faster.regressed)
    }

    @Test func limitsAndOverrides() throws {
        let drop = try Limit(parsing: "1.5x")
        #expect(abs(drop.allowedWorsening(higherIsBetter: true) - 1.0 / 3) < 1e-12)
        #expect(abs(drop.allowedWorsening(higherIsBetter: false) - 0.5) < 1e-12)
        #expect(try Limit(parsing: "10%") == .fraction(0.1))
        #expect(try Limit(parsing: "25") == .fraction(0.25))
        #expect(throws: CompareError.self) { try Limit(parsing: "fast") }
        #expect(throws: CompareError.self) { try Limit(parsing: "0.5x") }

        // 1.25× slower: fails the default 10 % drop, passes a 1.5× limit, fails again where an override is stricter.
        var loose = Thresholds(maxThroughputDrop: .factor(1.5), maxLatencyRise: .factor(1.5))
        let lenient = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1.25]),
                                             options: ComparisonOptions(thresholds: loose))
        #expect(!lenient.regressed)
        try loose.addOverride("READ p50=10%")
        let strict = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1.25]),
                                            options: ComparisonOptions(thresholds: loose))
        #expect(strict.verdict("READ p50") == .worse)
        #expect(strict.verdict("UPDATE p50") == .ok)
        try loose.addOverride("p99=5%")
        let quantity = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1.25]),
                                              options: ComparisonOptions(thresholds: loose))
        #expect(quantity.verdict("UPDATE p99") == .worse)
    }

    @Test func chosenPercentilesAndOverallOnly() throws {
        let options = ComparisonOptions(percentiles: [99.9], perOperation: false)
        let report = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1]), options: options)
        #expect(report.metrics.map(\.metric.name) == ["OVERALL throughput", "OVERALL p99.9"])
        let latency = ComparisonOptions(percentiles: [50], throughput: false)
        let latencyOnly = try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1]), options: latency)
        #expect(latencyOnly.metrics.map(\.metric.name) == ["OVERALL p50", "READ p50", "UPDATE p50"])
        #expect(throws: CompareError.self) {
            try Comparison.compare(baseline: Fixtures.runs([1]), current: Fixtures.runs([1]),
                                   options: ComparisonOptions(percentiles: [], throughput: false))
        }
    }

    @Test func outputsCarryTheVerdicts() throws {
        let report = try Comparison.compare(baseline: Fixtures.runs([1, 1.1]), current: Fixtures.runs([2, 2]))
        let lines = report.table.split(separator: "\n").map(String.init)
        #expect(lines[1].hasPrefix("metric"))
        let row = try #require(lines.first { $0.hasPrefix("READ p99 ") })
        #expect(row.hasSuffix("worse"))
        // Columns line up: every row of the table has the same width up to the verdict column.
        let header = try #require(lines.first { $0.hasPrefix("metric") })
        #expect(row.range(of: "worse")?.lowerBound.utf16Offset(in: row) == header.range(of: "verdict")?.lowerBound.utf16Offset(in: header))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(json["result"] as? String == "regression")
        let metrics = try #require(json["metrics"] as? [[String: Any]])
        #expect(metrics.count == 9)
        #expect(metrics[0]["verdict"] as? String == "worse")
        #expect((metrics[0]["baseline_runs"] as? [Double])?.count == 2)
    }
}
