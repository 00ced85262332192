// swift-tools-version:6.1
//
// libFuzzer targets for KVBench's decoders. Kept apart from the main package (like Benchmarks/)
// because these executables only link when built with `-sanitize=fuzzer`. Build and run them with
// scripts/fuzz.sh; by hand:
//   swift build --package-path Fuzz --scratch-path .build-fuzz \
//       -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
//   SWIFT_BACKTRACE=enable=no .build-fuzz/debug/RESPFuzz -max_total_time=60 Fuzz/corpus/RESPFuzz
import PackageDescription

let root = "KVBenchRoot"

let package = Package(
    name: "KVBenchFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        // A committed symlink to the repo root (gives the package a stable identity). No traits:
        // jemalloc must stay out of sanitizer builds.
        .package(path: "KVBenchRoot", traits: []),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, so each target's own `<Module>_main` can start it.
        .target(name: "FuzzShim"),
        .executableTarget(
            name: "RESPFuzz",
            dependencies: ["FuzzShim", .product(name: "RESP", package: root), .product(name: "NIOCore", package: "swift-nio")]
        ),
        .executableTarget(
            name: "PeerFuzz",
            dependencies: ["FuzzShim", .product(name: "KVCluster", package: root), .product(name: "KVVersioning", package: root)]
        ),
        .executableTarget(
            name: "StorageFuzz",
            dependencies: ["FuzzShim", .product(name: "KVStorage", package: root)]
        ),
        .executableTarget(
            name: "WorkloadFuzz",
            dependencies: ["FuzzShim", .product(name: "KVWorkload", package: root)]
        ),
        .executableTarget(
            name: "ScenarioFuzz",
            dependencies: ["FuzzShim", .product(name: "KVScenario", package: root)]
        ),
    ]
)
