import Benchmark

// Placeholder until the Ring benchmarks land.
let benchmarks: @Sendable () -> Void = {
    Benchmark("Ring.placeholder") { benchmark in
        for i in benchmark.scaledIterations { blackHole(i) }
    }
}
