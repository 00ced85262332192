/// SplitMix64 (Steele, Lea & Flood 2014): the simulator's only source of randomness. One seed
/// drives the network, the faults and the workload, so a seed replays a run exactly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `range` (modulo bias is irrelevant at these sizes).
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// Uniform in `range`.
    public mutating func tick(_ range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + next() % (range.upperBound - range.lowerBound + 1)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        p > 0 && Double(next() >> 11) * 0x1.0p-53 < p
    }

    /// A separate stream derived from this one (so adding draws in one part does not shift another).
    public mutating func fork() -> SplitMix64 { SplitMix64(seed: next() ^ 0xD1B5_4A32_D192_ED03) }
}
