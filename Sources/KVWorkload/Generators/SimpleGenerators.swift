#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Uniform keynums in [lower, upper] (YCSB `UniformLongGenerator`, without its modulo bias).
public struct UniformGenerator: Sendable {
    public let lower: Int64
    public let upper: Int64
    @usableFromInline var random: WorkloadRandom

    public init(lower: Int64, upper: Int64, random: WorkloadRandom) {
        precondition(upper >= lower, "uniform range is empty")
        self.lower = lower
        self.upper = upper
        self.random = random
    }

    /// A draw in [lower, upper]. A range of one value (the field chooser of a one-field record) needs no draw:
    /// the generator's random stream is its own, so leaving it unused changes no other draw.
    @inlinable
    public mutating func next() -> Int64 { lower == upper ? lower : random.next(in: lower, upper) }
}

/// YCSB's `HotspotIntegerGenerator`: the first ⌊n·dataFraction⌋ keynums of [lower, upper] are
/// hot; with probability `operationFraction` a draw is uniform in the hot set, else uniform in
/// the cold rest. Out-of-range fractions become 0, as in YCSB; an empty hot or cold set sends
/// every draw to the other one (YCSB would divide by zero).
public struct HotspotGenerator: Sendable {
    public let lower: Int64
    public let hotCount: Int64
    public let coldCount: Int64
    public let operationFraction: Double
    @usableFromInline var random: WorkloadRandom

    public init(lower: Int64, upper: Int64, dataFraction: Double, operationFraction: Double, random: WorkloadRandom) {
        precondition(upper >= lower, "hotspot range is empty")
        let data = (0...1).contains(dataFraction) ? dataFraction : 0
        let opn = (0...1).contains(operationFraction) ? operationFraction : 0
        let interval = upper - lower + 1
        self.lower = lower
        hotCount = Int64(Double(interval) * data)
        coldCount = interval - hotCount
        self.operationFraction = opn
        self.random = random
    }

    @inlinable
    public mutating func next() -> Int64 {
        let hot = random.nextDouble() < operationFraction
        if (hot && hotCount > 0) || coldCount == 0 {
            return lower + Int64(bitPattern: random.next(below: UInt64(hotCount)))
        }
        return lower + hotCount + Int64(bitPattern: random.next(below: UInt64(coldCount)))
    }
}

/// YCSB's `SequentialGenerator`: lower, lower+1, …, upper, lower, … (a counter modulo the range).
/// With `stride` and `offset` a thread walks only its share (offset, offset+stride, …).
public struct SequentialGenerator: Sendable {
    public let lower: Int64
    public let interval: Int64
    @usableFromInline var counter: Int64
    @usableFromInline let stride: Int64

    public init(lower: Int64, upper: Int64, offset: Int64 = 0, stride: Int64 = 1) {
        precondition(upper >= lower, "sequential range is empty")
        self.lower = lower
        interval = upper - lower + 1
        counter = offset
        self.stride = Swift.max(stride, 1)
    }

    @inlinable
    public mutating func next() -> Int64 {
        let value = lower + counter % interval
        counter &+= stride
        return value
    }
}

/// YCSB's `ExponentialGenerator`: an exponential offset with rate
/// γ = −ln(1 − percentile/100) / range, so `percentile` % of draws fall below `range`
/// (CoreWorkload passes range = recordcount × `exponential.frac`). The caller subtracts the
/// offset from the latest keynum and redraws when negative.
public struct ExponentialGenerator: Sendable {
    public let gamma: Double
    @usableFromInline var random: WorkloadRandom

    public init(percentile: Double, range: Double, random: WorkloadRandom) {
        gamma = -log(1 - percentile / 100) / range
        self.random = random
    }

    public init(mean: Double, random: WorkloadRandom) {
        gamma = 1 / mean
        self.random = random
    }

    /// The next offset (≥ 0).
    @inlinable
    public mutating func next() -> Int64 {
        let x = -log(random.nextDoubleNonZero()) / gamma
        return x >= 9.0e18 ? Int64.max : Int64(x)
    }
}

/// YCSB's `SkewedLatestGenerator` (`requestdistribution=latest`): the newest keynum is the
/// hottest, popularity falling as Zipf with distance from the newest acknowledged insert.
/// `.exact` draws an exact Zipf distance over all `latest + 1` keynums (0…latest);
/// `.ycsb` reproduces YCSB: `latest − grayZipf(latest)`, which never returns keynum 0.
public struct SkewedLatestGenerator: Sendable {
    public let mode: ScrambledZipfianGenerator.Mode
    @usableFromInline var exact: ZipfianGenerator
    @usableFromInline var gray: GrayZipfianGenerator?

    public init(initialLatest: Int64, theta: Double, mode: ScrambledZipfianGenerator.Mode, random: WorkloadRandom) {
        self.mode = mode
        let count = Swift.max(initialLatest + 1, 1)
        exact = ZipfianGenerator(itemCount: count, theta: theta, random: random)
        gray = mode == .ycsb ? GrayZipfianGenerator(min: 0, max: Swift.max(initialLatest - 1, 0), theta: theta, random: random) : nil
    }

    /// A keynum in [0, latest] (YCSB mode: [1, latest] once latest ≥ 1).
    @inlinable
    public mutating func next(latest: Int64) -> Int64 {
        if mode == .exact {
            if exact.itemCount != latest + 1 { exact = exact.resized(to: Swift.max(latest + 1, 1)) }
            return latest - exact.next()
        }
        return latest - gray!.next(itemCount: Swift.max(latest, 1))
    }
}

/// YCSB's `DiscreteGenerator` with precomputed cumulative thresholds: picks an index with
/// probability weight/Σweights. Zero weights are never picked.
public struct DiscreteChooser: Sendable {
    public let weights: [Double]
    @usableFromInline let cumulative: [Double]
    @usableFromInline var random: WorkloadRandom
    /// The index of the only positive weight, when there is one (a pure-read or pure-update mix): every draw
    /// would return it, so none is made. The chooser's random stream is its own, so no other draw changes.
    @usableFromInline let only: Int?

    public init(weights: [Double], random: WorkloadRandom) {
        precondition(!weights.isEmpty && weights.allSatisfy { $0 >= 0 } && weights.contains { $0 > 0 }, "need a positive weight")
        self.weights = weights
        let total = weights.reduce(0, +)
        var running = 0.0
        var thresholds: [Double] = []
        var lastPositive = 0
        for (i, w) in weights.enumerated() {
            running += w / total
            thresholds.append(running)
            if w > 0 { lastPositive = i }
        }
        for i in lastPositive..<thresholds.count { thresholds[i] = .infinity }  // rounding never falls off the end
        cumulative = thresholds
        self.random = random
        only = weights.filter { $0 > 0 }.count == 1 ? lastPositive : nil
    }

    @inlinable
    public mutating func next() -> Int {
        if let only { return only }
        let u = random.nextDouble()
        var i = 0
        while u >= cumulative[i] { i += 1 }
        return i
    }
}
