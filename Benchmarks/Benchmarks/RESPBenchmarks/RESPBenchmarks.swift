import Benchmark

// Placeholder until the RESP benchmarks land.
let benchmarks: @Sendable () -> Void = {
    Benchmark("RESP.placeholder") { benchmark in
        for i in benchmark.scaledIterations { blackHole(i) }
    }
}
