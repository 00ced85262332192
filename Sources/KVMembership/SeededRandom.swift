/// The instance's only randomness: SplitMix64 from the seed given at init, so a run replays exactly.
struct SeededRandom {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<bound` (bound > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Up to `count` distinct elements of `items`, in random order (partial Fisher–Yates).
    mutating func sample<T>(_ items: [T], count: Int) -> [T] {
        var pool = items
        let n = min(count, pool.count)
        for i in 0..<n { pool.swapAt(i, i + below(pool.count - i)) }
        return Array(pool.prefix(n))
    }

    mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) { items.swapAt(i, below(i + 1)) }
    }
}
