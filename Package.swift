// swift-tools-version:6.1
//
// KVBench: a benchmarking and load-generation toolkit for key-value stores, with a
// Dynamo-style reference store (`kvnode`). Benchmarks live in their own package under
// Benchmarks/ so package-benchmark stays out of the main build.
import PackageDescription

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
]

/// Hot-path modules drop the run-time exclusivity checks in release builds (the compiler still checks
/// statically); measured: ~3 % of kvnode's CPU under pipelined load went to swift_beginAccess.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "KVBench",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kvnode", targets: ["kvnode"]),
        .executable(name: "kvbench", targets: ["kvbench"]),
        .library(name: "KVHash", targets: ["KVHash"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "KVStorage", targets: ["KVStorage"]),
        .library(name: "KVPartitioning", targets: ["KVPartitioning"]),
        .library(name: "KVRingLab", targets: ["KVRingLab"]),
        .library(name: "KVWorkload", targets: ["KVWorkload"]),
        .library(name: "KVNodeServer", targets: ["KVNodeServer"]),
        .library(name: "KVLoad", targets: ["KVLoad"]),
        .library(name: "KVVersioning", targets: ["KVVersioning"]),
        .library(name: "KVCluster", targets: ["KVCluster"]),
        .library(name: "KVSimulator", targets: ["KVSimulator"]),
        .library(name: "KVClusterShell", targets: ["KVClusterShell"]),
        .library(name: "KVPeer", targets: ["KVPeer"]),
        .library(name: "KVAntiEntropy", targets: ["KVAntiEntropy"]),
        .library(name: "KVCompare", targets: ["KVCompare"]),
        .library(name: "KVMembership", targets: ["KVMembership"]),
        .library(name: "KVScenario", targets: ["KVScenario"]),
        .library(name: "KVClusterControl", targets: ["KVClusterControl"]),
        .library(name: "KVChaos", targets: ["KVChaos"]),
    ],
    traits: [
        .trait(name: "Jemalloc", description: "Link libjemalloc as the process allocator (turn off for sanitizer builds)"),
        .trait(name: "TLS", description: "TLS for clients, peers and kvbench (swift-nio-ssl); off: the --tls flags say this build has none"),
        .default(enabledTraits: ["Jemalloc", "TLS"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
    ],
    targets: [
        // System libraries and C shims.
        .systemLibrary(name: "CXXHash", pkgConfig: "libxxhash", providers: [.apt(["libxxhash-dev"])]),
        .target(
            name: "CJemallocShim",
            linkerSettings: [.linkedLibrary("jemalloc", .when(traits: ["Jemalloc"]))]
        ),

        // Pure libraries.
        .target(name: "KVHash", dependencies: ["CXXHash"]),
        .target(name: "RESP", dependencies: [.product(name: "NIOCore", package: "swift-nio")], swiftSettings: hotPath),
        .target(
            name: "KVStorage",
            dependencies: [
                "KVHash",
                .product(name: "NIOCore", package: "swift-nio"),
                "KVTLS",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .target(name: "KVPartitioning", dependencies: ["KVHash"], swiftSettings: hotPath),
        .target(name: "KVWorkload", dependencies: ["KVHash"], swiftSettings: hotPath),
        .target(name: "KVRingLab", dependencies: ["KVPartitioning", "KVHash"]),
        .target(name: "KVVersioning", dependencies: ["KVHash"], swiftSettings: hotPath),
        .target(name: "KVCluster", dependencies: ["KVVersioning", "KVPartitioning", "KVHash"], swiftSettings: hotPath),
        .target(name: "KVSimulator", dependencies: ["KVCluster", "KVVersioning", "KVPartitioning", "KVHash", "KVEventQueue"]),
        .target(name: "KVEventQueue", dependencies: [.product(name: "HeapModule", package: "swift-collections")]),
        .target(name: "KVAntiEntropy", dependencies: ["KVCluster", "KVVersioning", "KVPartitioning", "KVHash"], swiftSettings: hotPath),
        .target(name: "KVCompare"),
        .target(name: "KVMembership", dependencies: ["KVHash", "KVEventQueue"], swiftSettings: hotPath),

        // The node: NIO shell around the cores.
        .target(
            name: "KVClusterShell",
            dependencies: [
                "KVCluster", "KVStorage", "KVPartitioning", "KVAntiEntropy", "KVMembership",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),
        .target(
            name: "KVNodeServer",
            dependencies: nio + [
                "RESP", "KVStorage", "KVHash", "CJemallocShim", "KVCluster", "KVClusterShell", "KVVersioning", "KVPeer", "KVAntiEntropy", "KVMembership",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: hotPath
        ),

        // Node-to-node transport: framed, authenticated peer connections.
        .target(
            name: "KVPeer",
            dependencies: nio + [
                "KVCluster",
                "KVTLS",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),

        // The load driver: bindings, workers, recorders, reports.
        .target(
            name: "KVLoad",
            dependencies: nio + [
                "KVWorkload", "RESP", "KVStorage", "KVHash", "KVCluster", "KVPartitioning",
                "KVTLS",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPath
        ),

        // Scenarios: the file format and the per-event analysis (pure), and the local kvnode processes they drive.
        .target(
            name: "KVTLS",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl", condition: .when(traits: ["TLS"])),
            ]
        ),
        .target(name: "KVScenario", dependencies: [.product(name: "Yams", package: "Yams")]),
        .target(
            name: "KVChaos",
            dependencies: nio + ["KVClusterControl", "KVScenario", "KVLoad", "KVSimulator", "RESP"]
        ),
        .target(name: "KVClusterControl", dependencies: nio + ["KVScenario", "KVLoad", "RESP"]),
        // The default `embedded` binding: a whole cluster of shells in this process, linked in memory.
        .target(
            name: "KVEmbeddedCluster",
            dependencies: nio + [
                "KVClusterShell", "KVCluster", "KVStorage", "KVVersioning", "KVAntiEntropy", "KVLoad", "KVWorkload",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Executables.
        .executableTarget(
            name: "kvnode",
            dependencies: [
                "KVNodeServer", "CJemallocShim",
                "KVTLS", "KVPeer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kvbench",
            dependencies: [
                "KVRingLab", "KVPartitioning", "KVWorkload", "KVLoad", "KVSimulator", "KVCompare", "KVScenario", "KVClusterControl",
                "KVMembership", "KVEmbeddedCluster", "KVCluster",
                "CJemallocShim",
                "KVTLS", "KVChaos",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Tests.
        .testTarget(name: "KVHashTests", dependencies: ["KVHash"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "KVStorageTests", dependencies: ["KVStorage", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(name: "KVPartitioningTests", dependencies: ["KVPartitioning", "KVRingLab", "KVHash"]),
        .testTarget(name: "KVWorkloadTests", dependencies: ["KVWorkload"]),
        .testTarget(name: "KVVersioningTests", dependencies: ["KVVersioning", "KVHash"]),
        .testTarget(name: "KVClusterTests", dependencies: ["KVCluster", "KVVersioning", "KVPartitioning"]),
        .testTarget(name: "KVSimulatorTests", dependencies: ["KVSimulator", "KVCluster", "KVVersioning", "KVEventQueue"]),
        .testTarget(name: "KVMembershipTests", dependencies: ["KVMembership", "KVHash"]),
        .testTarget(
            name: "KVAntiEntropyTests",
            dependencies: ["KVAntiEntropy", "KVCluster", "KVVersioning", "KVPartitioning", "KVHash"]
        ),
        .testTarget(
            name: "KVLoadTests",
            dependencies: ["KVLoad", "KVWorkload", "RESP", "KVNodeServer",
                           .product(name: "Histogram", package: "hdrhistogram-swift")] + nio
        ),
        .testTarget(
            name: "KVEmbeddedClusterTests",
            dependencies: ["KVEmbeddedCluster", "KVClusterShell", "KVCluster", "KVLoad", "KVWorkload"]
        ),
        .testTarget(
            name: "KVClusterShellTests",
            dependencies: ["KVClusterShell", "KVCluster", "KVStorage", "KVVersioning",
                           .product(name: "Logging", package: "swift-log")] + nio
        ),
        .testTarget(
            name: "KVPeerTests",
            dependencies: ["KVPeer", "KVCluster", "KVVersioning", "KVTLS", .product(name: "Logging", package: "swift-log")] + nio
        ),
        .testTarget(name: "KVScenarioTests", dependencies: ["KVScenario"]),
        .testTarget(name: "KVChaosTests", dependencies: ["KVChaos"]),
        .testTarget(name: "KVCompareTests", dependencies: ["KVCompare", "KVLoad", "KVWorkload"]),
        .testTarget(
            name: "KVNodeServerTests",
            dependencies: ["KVNodeServer", "RESP", "KVLoad", "KVTLS", "KVWorkload"] + nio
        ),
    ]
)
