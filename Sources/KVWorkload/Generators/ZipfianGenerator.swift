#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact Zipf sampling over ranks 0..<itemCount with any exponent θ > 0 (θ = 1 included):
/// P(rank k) = (k+1)^-θ / Σ_{i=1}^{n} i^-θ, rank 0 the most popular.
///
/// Method: rejection-inversion (Hörmann and Derflinger, "Rejection-inversion to generate
/// variates from monotone discrete distributions", ACM TOMACS 1996). Setup is O(1) (a handful of
/// log/exp calls, no zeta sum, so any n and any θ is cheap); a draw costs one uniform, one
/// log1p+exp, and in the rare non-squeezed case one more log/exp pair; the expected number of
/// loop turns is below 1.1 for all n and θ. No table, no approximation of zeta, no folding.
public struct ZipfianGenerator: Sendable {
    public let itemCount: Int64
    public let theta: Double
    @usableFromInline let oneMinusTheta: Double
    @usableFromInline let hIntegralX1: Double
    @usableFromInline let hIntegralN: Double
    @usableFromInline let squeeze: Double
    @usableFromInline var random: WorkloadRandom

    public init(itemCount: Int64, theta: Double, random: WorkloadRandom) {
        precondition(itemCount >= 1, "zipfian needs at least one item")
        precondition(theta > 0 && theta.isFinite, "zipfian constant must be > 0")
        self.itemCount = itemCount
        self.theta = theta
        self.oneMinusTheta = 1 - theta
        self.random = random
        let q = 1 - theta
        hIntegralX1 = Self.hIntegral(1.5, q) - 1
        hIntegralN = Self.hIntegral(Double(itemCount) + 0.5, q)
        squeeze = 2 - Self.hIntegralInverse(Self.hIntegral(2.5, q) - Self.h(2, theta), q)
    }

    /// The same law over a different item count, keeping this generator's random state.
    public func resized(to itemCount: Int64) -> ZipfianGenerator {
        ZipfianGenerator(itemCount: itemCount, theta: theta, random: random)
    }

    /// The next rank in 0..<itemCount.
    @inlinable
    public mutating func next() -> Int64 {
        while true {
            let u = hIntegralN + random.nextDouble() * (hIntegralX1 - hIntegralN)
            let x = Self.hIntegralInverse(u, oneMinusTheta)
            var k = (x + 0.5).rounded(.down)
            if k < 1 { k = 1 } else if k > Double(itemCount) { k = Double(itemCount) }
            if k - x <= squeeze || u >= Self.hIntegral(k + 0.5, oneMinusTheta) - Self.h(k, theta) {
                return Int64(k) - 1
            }
        }
    }

    /// The exact probability of `rank` (for tests and reports; O(n) the first time per call).
    public static func probabilities(itemCount: Int, theta: Double) -> [Double] {
        var weights = (1...itemCount).map { pow(Double($0), -theta) }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        return weights
    }

    // H(x) = ∫_1^x t^-θ dt = (x^(1-θ) - 1)/(1-θ), written to stay accurate near θ = 1.
    @inlinable
    static func hIntegral(_ x: Double, _ q: Double) -> Double {
        let logX = log(x)
        return helperExpm1(q * logX) * logX
    }

    @inlinable
    static func hIntegralInverse(_ y: Double, _ q: Double) -> Double {
        var t = y * q
        if t < -1 { t = -1 }  // rounding guard: the inverse is defined for t > -1
        return exp(helperLog1p(t) * y)
    }

    @inlinable
    static func h(_ x: Double, _ theta: Double) -> Double {
        exp(-theta * log(x))
    }

    /// log1p(x)/x, continuous at 0.
    @inlinable
    static func helperLog1p(_ x: Double) -> Double {
        if abs(x) > 1e-8 { return log1p(x) / x }
        return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x))
    }

    /// expm1(x)/x, continuous at 0.
    @inlinable
    static func helperExpm1(_ x: Double) -> Double {
        if abs(x) > 1e-8 { return expm1(x) / x }
        return 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x))
    }
}
