import KVHash

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which keys the operations hit. The lab computes each key's exact expected share of operations
/// (no sampling), so the per-node ops columns are exact and deterministic.
public enum RequestDistribution: Sendable, Equatable {
    /// Every key gets 1/n.
    case uniform
    /// Zipf with constant θ, P(rank r) ∝ 1/r^θ, ranks scrambled over the keyspace like YCSB's
    /// ScrambledZipfianGenerator: rank r lands on key `XXH3(r) mod n` (YCSB uses FNV-64), so some keys
    /// collect two ranks and some none — the same folding YCSB has.
    case zipfian(theta: Double)
    /// A hot set (the first `hotFraction` of the keys) gets `hotOperationFraction` of the operations,
    /// uniformly; the rest share the remainder uniformly (YCSB's hotspot; defaults 0.2 / 0.8).
    case hotspot(hotFraction: Double, hotOperationFraction: Double)
    /// Zipf over recency (YCSB's `latest` at a fixed point in time): the newest key (highest index)
    /// is rank 1, the one before rank 2, and so on. Not scrambled.
    case latest(theta: Double)

    /// Short name for tables and CSV (`uniform`, `zipfian`, `hotspot`, `latest`).
    public var name: String {
        switch self {
        case .uniform: "uniform"
        case .zipfian: "zipfian"
        case .hotspot: "hotspot"
        case .latest: "latest"
        }
    }

    /// The exact probability that an operation hits key i, for i in 0..<keyCount (sums to 1).
    public func operationShares(keyCount n: Int) -> [Double] {
        precondition(n > 0)
        switch self {
        case .uniform:
            return [Double](repeating: 1 / Double(n), count: n)
        case .zipfian(let theta):
            let weights = Self.zipfWeights(count: n, theta: theta)
            var shares = [Double](repeating: 0, count: n)
            for r in 0..<n {
                shares[Int(XXH3.hash(UInt64(r + 1)) % UInt64(n))] += weights[r]
            }
            return shares
        case .hotspot(let hotFraction, let opFraction):
            let hot = min(n, max(0, Int((Double(n) * hotFraction).rounded())))
            let cold = n - hot
            var shares = [Double](repeating: 0, count: n)
            // With an empty hot or cold set, the whole traffic goes to the other one.
            let hotOps = cold == 0 ? 1 : (hot == 0 ? 0 : opFraction)
            for i in 0..<n {
                shares[i] = i < hot ? hotOps / Double(hot) : (1 - hotOps) / Double(cold)
            }
            return shares
        case .latest(let theta):
            let weights = Self.zipfWeights(count: n, theta: theta)
            return weights.reversed()
        }
    }

    /// Normalised Zipf weights, index 0 = rank 1.
    static func zipfWeights(count n: Int, theta: Double) -> [Double] {
        var w = [Double](repeating: 0, count: n)
        var sum = 0.0
        for r in 0..<n {
            let x = pow(Double(r + 1), -theta)
            w[r] = x
            sum += x
        }
        let inv = 1 / sum
        for r in 0..<n { w[r] *= inv }
        return w
    }
}
