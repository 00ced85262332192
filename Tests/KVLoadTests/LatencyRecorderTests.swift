import Foundation
import Histogram
import KVLoad
import Testing

@Suite("Latency recorder")
struct LatencyRecorderTests {
    /// Values spread over the whole trackable range (1 ns…1 h, log-uniform), with the clamped ends.
    static func values(count: Int, seed: UInt64) -> [UInt64] {
        var state = seed
        func nextRandom() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        var values: [UInt64] = [0, 1, 2, 2047, 2048, 2049, LatencyHistogram.latencyHighestTrackable, .max]
        for _ in 0..<count {
            let exponent = Double(nextRandom() % 1_000_000) / 1_000_000 * log(3.6e12)
            values.append(UInt64(exp(exponent)) + nextRandom() % 3)
        }
        return values
    }

    /// The recorder's hand-off equals recording each value in hdrhistogram-swift: same counts in every bucket,
    /// same total, the exact min and max, the exact sum (so the mean), in every slot used.
    @Test func handOffEqualsRecordingEachValueInTheLibrary() throws {
        let recorder = LatencyRecorder()
        var direct = HistogramSet()
        let slots = [HistogramSlot(kind: .read, outcome: .ok, measure: .service),
                     HistogramSlot(kind: .update, outcome: .error, measure: .intended),
                     HistogramSlot(kind: .delete, outcome: .timeout, measure: .service)]
        for (i, value) in Self.values(count: 60_000, seed: 7).enumerated() {
            let slot = slots[i % slots.count].index
            recorder.record(value, in: slot)
            direct.record(value, in: slot)
        }
        let handed = recorder.histogramSet()
        for slot in (0..<HistogramSlot.count).map(HistogramSlot.init(index:)) {
            let a = handed[slot], b = direct[slot]
            #expect((a == nil) == (b == nil), "slot \(slot)")
            guard let a, let b else { continue }
            #expect(a == b, "slot \(slot): counts differ")
            #expect(a.totalCount == b.totalCount && a.min == b.min && a.maxRecorded == b.maxRecorded)
            let sa = handed.stats(kinds: [slot.kind], outcomes: [slot.outcome], measure: slot.measure)
            let sb = direct.stats(kinds: [slot.kind], outcomes: [slot.outcome], measure: slot.measure)
            #expect(sa == sb, "slot \(slot)")
        }
    }

    /// A single value and two values (min and max both exact, no count lost or doubled).
    @Test func oneAndTwoValues() throws {
        let recorder = LatencyRecorder()
        let slot = HistogramSlot(kind: .read, outcome: .ok, measure: .service)
        recorder.record(123_456, in: slot.index)
        var h = try #require(recorder.histogramSet()[slot])
        #expect(h.totalCount == 1 && h.min == 123_456 && h.maxRecorded == 123_456)
        recorder.record(123_457, in: slot.index)
        h = try #require(recorder.histogramSet()[slot])
        #expect(h.totalCount == 2 && h.min == 123_456 && h.maxRecorded == 123_457)
        #expect(h.countForValue(123_456) == 2)  // both in one bucket at 3 significant digits
    }

    /// After `reset` nothing is left, and recording again gives what a fresh recorder gives.
    @Test func resetForgetsEverythingAndTheMemoryIsReused() {
        let recorder = LatencyRecorder()
        let slot = HistogramSlot(kind: .scan, outcome: .notFound, measure: .service).index
        for v in Self.values(count: 5_000, seed: 1) { recorder.record(v, in: slot) }
        recorder.reset()
        #expect(recorder.isEmpty)
        #expect(recorder.histogramSet().isEmpty)
        let fresh = LatencyRecorder()
        for v in Self.values(count: 5_000, seed: 2) {
            recorder.record(v, in: slot)
            fresh.record(v, in: slot)
        }
        let a = recorder.histogramSet(), b = fresh.histogramSet()
        #expect(a.slots[slot] == b.slots[slot] && a.slots[slot]?.min == b.slots[slot]?.min)
        #expect(a.stats(measure: .service) == b.stats(measure: .service))
    }

    /// A worker's interval hand-off (`take`) empties the recorder; the collector's `drain`, on the reporter's
    /// thread, turns it into the same histograms as recording each value in the library.
    @Test func aTakenIntervalBecomesHistogramsWhenTheCollectorIsDrained() throws {
        let recorder = LatencyRecorder()
        var direct = HistogramSet()
        let slot = HistogramSlot(kind: .update, outcome: .ok, measure: .service).index
        for v in Self.values(count: 20_000, seed: 3) {
            recorder.record(v, in: slot)
            direct.record(v, in: slot)
        }
        var snapshot = IntervalSnapshot(worker: 0, interval: 0, histograms: HistogramSet(), scheduled: 0, final: false)
        snapshot.recorded = recorder.take()
        #expect(recorder.isEmpty)
        let collector = IntervalCollector()
        collector.deliver(snapshot)
        let drained = try #require(collector.drain().first)
        #expect(drained.recorded == nil)
        #expect(drained.histograms.slots[slot] == direct.slots[slot])
        #expect(drained.histograms.stats(measure: .service) == direct.stats(measure: .service))
    }
}
