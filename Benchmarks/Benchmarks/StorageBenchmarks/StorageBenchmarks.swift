import Benchmark

// Placeholder until the Storage benchmarks land.
let benchmarks: @Sendable () -> Void = {
    Benchmark("Storage.placeholder") { benchmark in
        for i in benchmark.scaledIterations { blackHole(i) }
    }
}
