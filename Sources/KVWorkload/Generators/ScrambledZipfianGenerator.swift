/// `requestdistribution=zipfian`: Zipf popularity over [min, max] with the hot items scattered
/// over the keyspace instead of being the lowest keynums.
///
/// - `.ycsb` reproduces YCSB's `ScrambledZipfianGenerator`: a Gray zipfian rank over 10^10+1
///   items, then `min + fnv64(rank) % itemCount`. Folding 10^10 ranks onto n keys flattens the
///   law: the hottest key gets ≈ 1/zeta(10^10) ≈ 3.8 % at θ = 0.99 whatever n is, and the tail is
///   a mixture of many ranks (YCSB#1495). Keynum order matches YCSB's for the same rank.
/// - `.exact` draws an exact Zipf rank over exactly n items and maps it through a keyed
///   bijection of [0, n) (a 4-round Feistel network with cycle walking): the popularity of the
///   i-th hottest key is exactly Zipf's, and hot keys are still scattered.
public struct ScrambledZipfianGenerator: Sendable {
    /// Which algorithm to use.
    public enum Mode: String, Sendable, CaseIterable {
        case exact
        case ycsb
    }

    /// YCSB's ITEM_COUNT.
    public static let ycsbItemCount: Int64 = 10_000_000_000

    public let min: Int64
    public let itemCount: Int64
    public let mode: Mode
    @usableFromInline var exact: ZipfianGenerator
    @usableFromInline var gray: GrayZipfianGenerator?
    @usableFromInline let permutation: FeistelPermutation

    public init(min: Int64, max: Int64, theta: Double, mode: Mode, random: WorkloadRandom) {
        precondition(max >= min, "zipfian range is empty")
        self.min = min
        itemCount = max - min + 1
        self.mode = mode
        var seeder = random
        permutation = FeistelPermutation(domain: UInt64(itemCount), key: seeder.next())
        exact = ZipfianGenerator(itemCount: mode == .exact ? itemCount : 1, theta: theta, random: seeder)
        if mode == .ycsb {
            let zeta: Double? = theta == GrayZipfianGenerator.ycsbConstant ? GrayZipfianGenerator.ycsbZetaOfTenBillion : nil
            gray = GrayZipfianGenerator(min: 0, max: Self.ycsbItemCount, theta: theta, zetaN: zeta, random: seeder)
        } else {
            gray = nil
        }
    }

    /// The next keynum in [min, max].
    @inlinable
    public mutating func next() -> Int64 {
        if mode == .exact {
            let rank = exact.next()
            return min + Int64(bitPattern: permutation.apply(UInt64(rank)))
        }
        let rank = gray!.next()
        return min + YCSBHash.fnv64(rank) % itemCount
    }

    /// The keynum that holds popularity rank `rank` (0 = hottest) in exact mode.
    public func keyNumber(ofRank rank: Int64) -> Int64 {
        min + Int64(bitPattern: permutation.apply(UInt64(rank)))
    }
}

/// A keyed pseudo-random bijection of [0, domain): a balanced Feistel network over the
/// smallest even bit width covering the domain, with cycle walking (fewer than 4 rounds of
/// walking on average). Stateless and cheap: four multiplies per application.
public struct FeistelPermutation: Sendable {
    public let domain: UInt64
    @usableFromInline let halfBits: UInt64
    @usableFromInline let halfMask: UInt64
    @usableFromInline let keys: (UInt64, UInt64, UInt64, UInt64)

    public init(domain: UInt64, key: UInt64) {
        precondition(domain >= 1)
        self.domain = domain
        var bits: UInt64 = 2
        while bits < 64 && (UInt64(1) << bits) < domain { bits += 2 }
        halfBits = bits / 2
        halfMask = (UInt64(1) << halfBits) - 1
        var mix = SplitMix64(seed: key)
        keys = (mix.next(), mix.next(), mix.next(), mix.next())
    }

    @inlinable
    public func apply(_ value: UInt64) -> UInt64 {
        var v = value
        repeat { v = encrypt(v) } while v >= domain
        return v
    }

    @inlinable
    func encrypt(_ value: UInt64) -> UInt64 {
        var left = value >> halfBits
        var right = value & halfMask
        left ^= round(right, keys.0)
        right ^= round(left, keys.1)
        left ^= round(right, keys.2)
        right ^= round(left, keys.3)
        return left << halfBits | right
    }

    /// Round function: multiplicative hashing of (half ^ key), keeping the top `halfBits` bits.
    @inlinable
    func round(_ half: UInt64, _ key: UInt64) -> UInt64 {
        ((half ^ key) &* 0x9E37_79B9_7F4A_7C15) >> (64 - halfBits)
    }
}
