import Benchmark
import Foundation
import Histogram
import KVLoad
import KVWorkload

// Latency recording on kvbench's hot path: every operation records one value (ns) into a
// hdrhistogram-swift histogram, through `HistogramSet` (one histogram per operation × outcome ×
// measure). Each iteration records 1000 values (scalingFactor .kilo) taken from a fixed spread of
// plausible latencies (100 ns … 10 ms), so wall-clock figures are per 1000 records.
//   cd Benchmarks && swift package benchmark --target HistogramBenchmarks --no-progress
// Thresholds: wall clock may rise 25 % at p50 and 50 % at p90 (this shared machine's noise is
// 15-20 %); recording must never allocate.

/// 1024 latencies spread log-uniformly over 100 ns … 10 ms (a fixed sequence: no randomness).
private let latencies: [UInt64] = {
    var x: UInt64 = 0x9E37_79B9_7F4A_7C15
    return (0..<1024).map { _ in
        x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let exponent = 2 + 5 * Double(x >> 11) / Double(1 << 53)  // 10^2 … 10^7 ns
        return UInt64(pow(10, exponent))
    }
}()

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],  // throughput would only restate the wall clock
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 2_000,
        thresholds: [
            .wallClock: .init(relative: [.p50: 25, .p90: 50]),
            .mallocCountTotal: .init(absolute: [.p90: 0]),
        ]
    )

    Benchmark("Histogram.record") { benchmark in
        var h = LatencyHistogram.latency()
        benchmark.startMeasurement()  // creating the histogram (zeroing its counts) is not recording
        var i = 0
        for _ in benchmark.scaledIterations {
            blackHole(h.record(latencies[i & 1023]))
            i &+= 1
        }
        benchmark.stopMeasurement()
        blackHole(h.totalCount)
    }

    Benchmark("HistogramSet.record") { benchmark in
        // kvbench's path: clamp, pick the slot's histogram (created on first use), record.
        var set = HistogramSet()
        let read = HistogramSlot(kind: .read, outcome: .ok, measure: .service).index
        let update = HistogramSlot(kind: .update, outcome: .ok, measure: .service).index
        set.record(1, in: read)
        set.record(1, in: update)
        benchmark.startMeasurement()
        var i = 0
        for _ in benchmark.scaledIterations {
            set.record(latencies[i & 1023], in: i & 1 == 0 ? read : update)
            i &+= 1
        }
        benchmark.stopMeasurement()
        blackHole(set.isEmpty)
    }
}
