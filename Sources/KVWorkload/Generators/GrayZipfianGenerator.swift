#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// YCSB's `ZipfianGenerator`, reproduced: Gray et al.'s approximate Zipf sampler ("Quickly
/// Generating Billion-Record Synthetic Databases", SIGMOD 1994) over [base, base+items).
/// Kept for YCSB-compatible mode (scrambled zipfian, `latest`, zipfian scan and field lengths).
///
/// Faithful to YCSB including its quirks: only ranks 0 and 1 are exact, the rest come from a
/// continuous approximation; when the item count grows, `eta` is recomputed with the *original*
/// item count, as YCSB does. θ = 1 is invalid here (alpha = 1/(1-θ)).
public struct GrayZipfianGenerator: Sendable {
    /// YCSB's default and only tested constant.
    public static let ycsbConstant = 0.99
    /// YCSB's precomputed zeta(10^10 + 1, 0.99) used by its scrambled zipfian.
    public static let ycsbZetaOfTenBillion = 26.46902820178302

    public let base: Int64
    public let items: Int64
    public let theta: Double
    @usableFromInline let zeta2Theta: Double
    @usableFromInline let alpha: Double
    @usableFromInline var zetaN: Double
    @usableFromInline var countForZeta: Int64
    @usableFromInline var eta: Double
    @usableFromInline let pointFiveToTheta: Double
    @usableFromInline var random: WorkloadRandom

    /// Over [min, max] (inclusive, as YCSB), with zeta computed or supplied.
    public init(min: Int64, max: Int64, theta: Double = ycsbConstant, zetaN: Double? = nil, random: WorkloadRandom) {
        precondition(max >= min, "zipfian range is empty")
        precondition(theta > 0 && theta != 1, "YCSB's zipfian needs θ > 0 and θ ≠ 1")
        base = min
        items = max - min + 1
        self.theta = theta
        zeta2Theta = Self.zeta(2, theta)
        alpha = 1 / (1 - theta)
        let z = zetaN ?? Self.zeta(items, theta)
        self.zetaN = z
        countForZeta = items
        eta = (1 - pow(2.0 / Double(items), 1 - theta)) / (1 - zeta2Theta / z)
        pointFiveToTheta = pow(0.5, theta)
        self.random = random
    }

    /// A draw over the constructed item count.
    @inlinable
    public mutating func next() -> Int64 { next(itemCount: items) }

    /// A draw over `itemCount` items (YCSB's `nextLong(itemcount)`; growth updates zeta incrementally).
    @inlinable
    public mutating func next(itemCount: Int64) -> Int64 {
        if itemCount > countForZeta {
            zetaN = Self.zeta(from: countForZeta, to: itemCount, theta, initial: zetaN)
            countForZeta = itemCount
            eta = (1 - pow(2.0 / Double(items), 1 - theta)) / (1 - zeta2Theta / zetaN)
        }
        let u = random.nextDouble()
        let uz = u * zetaN
        if uz < 1.0 { return base }
        if uz < 1.0 + pointFiveToTheta { return base + 1 }
        return base + Int64(Double(itemCount) * pow(eta * u - eta + 1, alpha))
    }

    /// zeta(n, θ) = Σ_{i=1}^{n} i^-θ. Exact summation up to 10^7 terms; above that the tail is
    /// added with Euler–Maclaurin (error far below 1e-9), so even 10^10 items cost milliseconds.
    public static func zeta(_ n: Int64, _ theta: Double) -> Double {
        zeta(from: 0, to: n, theta, initial: 0)
    }

    /// Σ_{i=from+1}^{to} i^-θ added to `initial`.
    public static func zeta(from: Int64, to: Int64, _ theta: Double, initial: Double) -> Double {
        let exactLimit: Int64 = 10_000_000
        var sum = initial
        var i = from + 1
        let directEnd = min(to, Swift.max(from, exactLimit))
        while i <= directEnd {
            sum += pow(Double(i), -theta)
            i += 1
        }
        if to > directEnd {
            // Σ_{i=m+1}^{n} f(i) ≈ ∫_m^n f + (f(n) - f(m))/2 + (f'(n) - f'(m))/12 - (f'''(n) - f'''(m))/720
            let m = Double(directEnd), n = Double(to)
            let f = { (x: Double) in pow(x, -theta) }
            let f1 = { (x: Double) in -theta * pow(x, -theta - 1) }
            let f3 = { (x: Double) in -theta * (theta + 1) * (theta + 2) * pow(x, -theta - 3) }
            let integral = (pow(n, 1 - theta) - pow(m, 1 - theta)) / (1 - theta)
            sum += integral + (f(n) - f(m)) / 2 + (f1(n) - f1(m)) / 12 - (f3(n) - f3(m)) / 720
        }
        return sum
    }
}
