import Benchmark
import KVHash
import KVPartitioning

// Preference-list and owner lookups on the rings the kvnode coordinator will use:
// 100 nodes × 256 vnodes (25,600 tokens), N = 3, and 1024 fixed partitions. Each scaled
// iteration is one lookup on a different pre-hashed key (or one 16-byte key hashed then looked up).

let membership = Membership.named(count: 100)
let vnodeRing = TokenRing(membership: membership, tokensPerNode: 256)
let fixedRing = FixedPartitionRing(membership: membership, partitionCount: 1024)
let keyCount = 1 << 16
let keyHashes: [UInt64] = (0..<keyCount).map { XXH3.hash(UInt64($0), seed: 99) }
/// 16-byte keys ("key-" + 12 digits), flattened.
let keyBytes: [UInt8] = (0..<keyCount).flatMap { i -> [UInt8] in
    var digits = Array(String(i).utf8)
    while digits.count < 12 { digits.insert(UInt8(ascii: "0"), at: 0) }
    return Array("key-".utf8) + digits
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2)
    )

    Benchmark("Ring.vnodes.preferenceList.N3.prehashed") { benchmark in
        var list: [NodeIndex] = []
        list.reserveCapacity(3)
        for i in benchmark.scaledIterations {
            vnodeRing.preferenceList(for: keyHashes[i & (keyCount - 1)], count: 3, into: &list)
            blackHole(list[2])
        }
    }

    Benchmark("Ring.vnodes.preferenceList.N3.hash16B") { benchmark in
        var list: [NodeIndex] = []
        list.reserveCapacity(3)
        keyBytes.withUnsafeBytes { bytes in
            for i in benchmark.scaledIterations {
                let offset = (i & (keyCount - 1)) * 16
                let h = XXH3.hash(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 16]))
                vnodeRing.preferenceList(for: h, count: 3, into: &list)
                blackHole(list[2])
            }
        }
    }

    Benchmark("Ring.vnodes.owner.prehashed") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(vnodeRing.owner(of: keyHashes[i & (keyCount - 1)]))
        }
    }

    Benchmark("Ring.fixed.owner.prehashed") { benchmark in
        for i in benchmark.scaledIterations {
            blackHole(fixedRing.owner(of: keyHashes[i & (keyCount - 1)]))
        }
    }

    Benchmark("Ring.fixed.preferenceList.N3.prehashed") { benchmark in
        var list: [NodeIndex] = []
        list.reserveCapacity(3)
        for i in benchmark.scaledIterations {
            fixedRing.preferenceList(for: keyHashes[i & (keyCount - 1)], count: 3, into: &list)
            blackHole(list[2])
        }
    }
}
