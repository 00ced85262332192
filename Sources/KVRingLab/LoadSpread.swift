#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Imbalance of a per-node quantity (keys or operations).
public struct LoadSpread: Sendable, Equatable {
    /// Busiest node over the mean (1 = perfect).
    public let maxOverMean: Double
    /// Population standard deviation over the mean.
    public let coefficientOfVariation: Double
    /// Busiest node's fraction of the total.
    public let maxShare: Double

    public init(maxOverMean: Double, coefficientOfVariation: Double, maxShare: Double) {
        self.maxOverMean = maxOverMean
        self.coefficientOfVariation = coefficientOfVariation
        self.maxShare = maxShare
    }

    /// Spread of `values` (one per node); all zeros give a perfect spread.
    public init(of values: [Double]) {
        precondition(!values.isEmpty)
        let total = values.reduce(0, +)
        let mean = total / Double(values.count)
        guard mean > 0 else {
            self.init(maxOverMean: 1, coefficientOfVariation: 0, maxShare: 0)
            return
        }
        let maximum = values.max()!
        var squares = 0.0
        for v in values { squares += (v - mean) * (v - mean) }
        self.init(
            maxOverMean: maximum / mean,
            coefficientOfVariation: sqrt(squares / Double(values.count)) / mean,
            maxShare: maximum / total
        )
    }

    /// Spread of integer counts.
    public init(of counts: [Int]) {
        self.init(of: counts.map(Double.init))
    }
}
