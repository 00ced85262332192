/// SplitMix64: a tiny 64-bit generator used only to expand a seed into other generators' states
/// (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014).
public struct SplitMix64: Sendable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman and Vigna): the seeded generator every workload generator owns.
/// Deterministic for a given seed, independent of the platform, and a few ns per draw.
public struct WorkloadRandom: RandomNumberGenerator, Sendable {
    @usableFromInline var s0: UInt64
    @usableFromInline var s1: UInt64
    @usableFromInline var s2: UInt64
    @usableFromInline var s3: UInt64

    /// A generator whose state is expanded from `seed` with SplitMix64 (never all zero).
    public init(seed: UInt64) {
        var mix = SplitMix64(seed: seed)
        s0 = mix.next()
        s1 = mix.next()
        s2 = mix.next()
        s3 = mix.next()
        if s0 | s1 | s2 | s3 == 0 { s0 = 1 }
    }

    /// An independent stream for one consumer (`stream` = thread index, generator id…) of a seed.
    public init(seed: UInt64, stream: UInt64) {
        var mix = SplitMix64(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03))
        self.init(seed: mix.next() ^ stream)
    }

    @inlinable @inline(__always)
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A double uniform in [0, 1) with 53 random bits (as Java's `nextDouble`).
    @inlinable @inline(__always)
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A double uniform in (0, 1]: safe to take the logarithm of.
    @inlinable
    public mutating func nextDoubleNonZero() -> Double {
        Double((next() >> 11) + 1) * 0x1.0p-53
    }

    /// An integer uniform in [0, bound) without modulo bias (Lemire's multiply-shift method).
    /// `bound` must be positive.
    /// The common case (the low half at least `bound`, no rejection possible) is inlined; the rest is a call.
    @inlinable @inline(__always)
    public mutating func next(below bound: UInt64) -> UInt64 {
        let m = next().multipliedFullWidth(by: bound)
        if m.low >= bound { return m.high }
        return next(below: bound, rejecting: m)
    }

    /// `next(below:)` when the first draw's low half fell below `bound`: it may have to be rejected.
    @usableFromInline @inline(never)
    mutating func next(below bound: UInt64, rejecting first: (high: UInt64, low: UInt64)) -> UInt64 {
        var m = first
        let threshold = (0 &- bound) % bound
        while m.low < threshold {
            m = next().multipliedFullWidth(by: bound)
        }
        return m.high
    }

    /// An integer uniform in the closed range [lower, upper].
    @inlinable @inline(__always)
    public mutating func next(in lower: Int64, _ upper: Int64) -> Int64 {
        let span = UInt64(bitPattern: upper &- lower) &+ 1
        if span == 0 { return Int64(bitPattern: next()) }  // the whole 64-bit range
        return lower &+ Int64(bitPattern: next(below: span))
    }
}
