import Foundation
import Histogram
import KVLoad
import KVWorkload
import Testing

@Suite("Recording and merging")
struct RecorderTests {
    /// Percentiles from per-worker sets merged at the end agree with an exact sort within 3 significant digits.
    @Test func mergedPercentilesMatchExactSort() {
        var state: UInt64 = 42
        func nextRandom() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var raw: [UInt64] = []
        var workers = [HistogramSet](repeating: HistogramSet(), count: 4)
        let slot = HistogramSlot(kind: .read, outcome: .ok, measure: .service).index
        for i in 0..<200_000 {
            // Log-spread values from ~1 µs to ~100 ms, in ns.
            let exponent = Double(nextRandom() % 10_000) / 10_000 * 11.5
            let value = UInt64(1000 * exp(exponent))
            raw.append(value)
            workers[i % 4].record(value, in: slot)
        }
        var merged = HistogramSet()
        for w in workers { merged.add(w) }
        let h = try! #require(merged[HistogramSlot(kind: .read, outcome: .ok, measure: .service)])
        raw.sort()
        #expect(h.totalCount == UInt64(raw.count))
        for p in [50.0, 90, 99, 99.9, 99.99, 100] {
            let rank = max(Int((p / 100 * Double(raw.count)).rounded(.up)) - 1, 0)
            let exact = Double(raw[rank])
            let estimate = Double(h.valueAtPercentile(p))
            #expect(abs(estimate - exact) / exact <= 0.001, "p\(p): \(estimate) vs exact \(exact)")
        }
    }

    /// The reported percentiles come from one walk over the buckets; they must equal HdrHistogram's own
    /// `valueAtPercentile` for every level, on many shapes: a single value, a few, tight and heavy-tailed
    /// spreads, counts small enough that the levels round onto the same bucket.
    @Test func oneWalkPercentilesEqualValueAtPercentile() {
        var state: UInt64 = 7
        func nextRandom() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let levels: [Double] = [50, 90, 99, 99.9, 99.99]
        var shapes = 0
        // Kvbench's own layout (walked by counts index), one merged from an auto-resizing histogram (the same
        // buckets, fewer of them), and two other layouts (walked with the library's iterator).
        let layouts: [(String, () -> LatencyHistogram)] = [
            ("latency", { LatencyHistogram.latency() }),
            ("auto-resized", { var h = LatencyHistogram(); h.add(LatencyHistogram.latency()); return h }),
            ("two digits", { LatencyHistogram(highestTrackableValue: 1 << 40, numberOfSignificantValueDigits: .two) }),
            ("lowest 1000", { LatencyHistogram(lowestDiscernibleValue: 1000, highestTrackableValue: 1 << 42) }),
        ]
        for (layout, make) in layouts {
            for count in [1, 2, 3, 7, 99, 1_000, 10_001, 100_000] {
                for spread in [0.0, 0.5, 4.0, 14.0, 20.0] {
                    var h = make()
                    if count == 3 { _ = h.record(0) }  // a zero (the first bucket) below the rest
                    for _ in 0..<count {
                        let exponent = Double(nextRandom() % 10_000) / 10_000 * spread
                        _ = h.record(UInt64(5_000 * exp(exponent)) + nextRandom() % 3)
                    }
                    let stats = LatencyStats(h)
                    let reported = [stats.p50Micros, stats.p90Micros, stats.p99Micros, stats.p999Micros, stats.p9999Micros]
                    for (level, value) in zip(levels, reported) {
                        #expect(value == Double(h.valueAtPercentile(level)) / 1000,
                                "\(layout): \(count) values, spread \(spread), p\(level)")
                    }
                    shapes += 1
                }
            }
        }
        #expect(shapes == 160)
    }

    /// The mean is the exact mean of what was recorded, across merged worker sets and outcomes; a slot
    /// read back without its sum (from an interval log) falls back to HdrHistogram's bucket-based mean.
    @Test func meanIsExactAcrossMerges() {
        var workers = [HistogramSet](repeating: HistogramSet(), count: 3)
        var total: UInt64 = 0
        var count: UInt64 = 0
        for i in 0..<30_000 {
            let value = UInt64(1_000 + (i * 7_919) % 5_000_000)  // 1 µs … 5 ms, spread
            let outcome: OperationOutcome = i % 10 == 0 ? .notFound : .ok
            workers[i % 3].record(value, in: HistogramSlot(kind: .read, outcome: outcome, measure: .service).index)
            total += value
            count += 1
        }
        var merged = HistogramSet()
        for w in workers { merged.add(w) }
        let stats = merged.stats(kinds: [.read], measure: .service)
        #expect(stats.count == count)
        #expect(stats.meanMicros == Double(total) / Double(count) / 1000)
        // The bucket-based mean differs from the exact one (that is why the sum is kept), within 3 digits.
        let bucketMean = try! #require(merged.merged(kinds: [.read], measure: .service)).mean / 1000
        #expect(bucketMean != stats.meanMicros)
        #expect(abs(bucketMean - stats.meanMicros) / stats.meanMicros < 0.001)
        // A histogram set from outside has no sum: the merge falls back to the bucket-based mean.
        var readBack = HistogramSet()
        readBack[HistogramSlot(kind: .read, outcome: .ok, measure: .service)] = merged[HistogramSlot(kind: .read, outcome: .ok, measure: .service)]
        var mixed = merged
        mixed.add(readBack)
        let fallback = mixed.stats(kinds: [.read], measure: .service)
        let expected = try! #require(mixed.merged(kinds: [.read], measure: .service)).mean / 1000
        #expect(fallback.meanMicros == expected)
    }

    @Test func slotsIndexRoundTrip() {
        for i in 0..<HistogramSlot.count {
            #expect(HistogramSlot(index: i).index == i)
        }
    }

    @Test func aggregatorWaitsForEveryWorker() {
        let collector = IntervalCollector()
        _ = collector
        var a = RunAggregator(workerCount: 2, openLoop: false)
        var s = HistogramSet()
        s.record(1000, in: HistogramSlot(kind: .read, outcome: .ok, measure: .service).index)
        #expect(a.absorb([IntervalSnapshot(worker: 0, interval: 0, histograms: s, scheduled: 1, final: false)]).isEmpty)
        #expect(a.absorb([IntervalSnapshot(worker: 1, interval: 0, histograms: s, scheduled: 1, final: false)]) == [0])
        #expect(a.totals.count(.read, .ok) == 2)
        a.absorb([IntervalSnapshot(worker: 0, interval: 1, histograms: HistogramSet(), scheduled: 0, final: true),
                  IntervalSnapshot(worker: 1, interval: 1, histograms: s, scheduled: 0, final: true)])
        #expect(a.isComplete)
        #expect(a.totals.count(.read, .ok) == 3)
    }

    @Test func perNodeCountsAreSummedPerIntervalAndErrorRepliesByText() {
        var a = RunAggregator(workerCount: 2, openLoop: false)
        func snap(_ w: Int, _ i: Int, _ nodes: [Int64], final: Bool = false, errors: [String: Int] = [:]) -> IntervalSnapshot {
            var s = IntervalSnapshot(worker: w, interval: i, histograms: HistogramSet(), scheduled: 0, final: final)
            s.nodeOperations = nodes
            s.errorReplies = errors
            return s
        }
        a.absorb([snap(0, 0, [5, 0, 1]), snap(1, 0, [2, 3, 0])])
        a.absorb([snap(0, 1, [0, 0, 0], final: true, errors: ["SIBLINGS x": 2]),
                  snap(1, 1, [0, 4, 0], final: true, errors: ["SIBLINGS x": 1, "NOTACK y": 1])])
        #expect(a.nodeRows == [NodeInterval(second: 0, operations: [7, 3, 1]), NodeInterval(second: 1, operations: [0, 4, 0])])
        #expect(a.errorReplies == ["SIBLINGS x": 3, "NOTACK y": 1])
    }

    @Test func errorReplyTextsAreBounded() {
        var core = WorkerCore(index: 0, plan: RunPlan(spec: WorkloadSpec(), phase: .run), start: 0, collector: IntervalCollector())
        for i in 0..<40 { core.noteErrorReply("ERR number \(i % 20)") }
        core.noteErrorReply(String(repeating: "x", count: 500))
        #expect(core.errorReplies.count == 17)
        #expect(core.errorReplies["(other errors)"] == 9)
        #expect(core.errorReplies.keys.allSatisfy { $0.count <= 100 })
    }
}
