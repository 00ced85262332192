// swift-tools-version:6.1
//
// package-benchmark targets for KVBench's hot paths. Kept apart from the main package so the
// benchmark tool and its dependencies stay out of ordinary builds. Run from this folder:
//   swift package benchmark                       # run everything
//   swift package benchmark baseline check main   # compare with the committed baseline
// See README.md ("Benchmarks") for updating baselines.
import PackageDescription

let benchmark: Target.Dependency = .product(name: "Benchmark", package: "benchmark")
let plugin: Target.PluginUsage = .plugin(name: "BenchmarkPlugin", package: "benchmark")

let package = Package(
    name: "KVBenchBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "KVBenchRoot"),  // a committed symlink to the repo root: gives the package a stable identity
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        .executableTarget(
            name: "RESPBenchmarks",
            dependencies: [benchmark, .product(name: "RESP", package: "KVBenchRoot"), .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/RESPBenchmarks",
            plugins: [plugin]
        ),
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [benchmark, .product(name: "KVStorage", package: "KVBenchRoot"), .product(name: "NIOCore", package: "swift-nio")],
            path: "Benchmarks/StorageBenchmarks",
            plugins: [plugin]
        ),
        .executableTarget(
            name: "RingBenchmarks",
            dependencies: [benchmark, .product(name: "KVPartitioning", package: "KVBenchRoot"), .product(name: "KVHash", package: "KVBenchRoot")],
            path: "Benchmarks/RingBenchmarks",
            plugins: [plugin]
        ),
        .executableTarget(
            name: "HistogramBenchmarks",
            dependencies: [
                benchmark, .product(name: "KVLoad", package: "KVBenchRoot"), .product(name: "KVWorkload", package: "KVBenchRoot"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Benchmarks/HistogramBenchmarks",
            plugins: [plugin]
        ),
        .executableTarget(
            name: "WorkloadBenchmarks",
            dependencies: [benchmark, .product(name: "KVWorkload", package: "KVBenchRoot")],
            path: "Benchmarks/WorkloadBenchmarks",
            plugins: [plugin]
        ),
        .executableTarget(
            name: "ClusterBenchmarks",
            dependencies: [
                benchmark, .product(name: "KVCluster", package: "KVBenchRoot"), .product(name: "KVVersioning", package: "KVBenchRoot"),
                .product(name: "KVPartitioning", package: "KVBenchRoot"), .product(name: "KVAntiEntropy", package: "KVBenchRoot"),
            ],
            path: "Benchmarks/ClusterBenchmarks",
            plugins: [plugin]
        ),
    ]
)
