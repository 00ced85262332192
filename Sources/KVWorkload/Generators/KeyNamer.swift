/// Builds record keys exactly as YCSB's `CoreWorkload.buildKeyName`: `prefix` + the keynum
/// (FNV-64 hashed when `insertorder=hashed`) in decimal, left-padded with zeros to `zeroPadding`
/// digits. Writes into caller-provided memory so the hot path never allocates.
public struct KeyNamer: Sendable, Equatable {
    public let prefix: [UInt8]
    public let hashed: Bool
    public let zeroPadding: Int

    /// The longest key this namer can produce (prefix + sign + 19 digits, or the padding).
    public var maximumLength: Int { prefix.count + max(zeroPadding, 20) }

    public init(prefix: String = "user", hashed: Bool = true, zeroPadding: Int = 1) {
        self.prefix = Array(prefix.utf8)
        self.hashed = hashed
        self.zeroPadding = max(zeroPadding, 0)
    }

    /// The number that is printed for `keyNumber` (its FNV-64 hash when hashed).
    @inlinable
    public func printedNumber(_ keyNumber: Int64) -> Int64 {
        hashed ? YCSBHash.fnv64(keyNumber) : keyNumber
    }

    /// Writes the key for `keyNumber` at the start of `buffer` (at least `maximumLength` bytes)
    /// and returns its length.
    @inlinable
    public func write(keyNumber: Int64, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        precondition(buffer.count >= maximumLength, "key buffer too small")
        let out = buffer.baseAddress!
        prefix.withUnsafeBytes { out.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return prefix.count + writeNumber(keyNumber: keyNumber, into: out + prefix.count)
    }

    /// Writes only the part after the prefix (padding and number) at `out` (room for
    /// `maximumLength - prefix.count` bytes) and returns its length: lets a caller keep the
    /// prefix in place and rewrite just the number.
    @inlinable
    public func writeNumber(keyNumber: Int64, into out: UnsafeMutableRawPointer) -> Int {
        Self.writeNumber(keyNumber: keyNumber, hashed: hashed, zeroPadding: zeroPadding, into: out)
    }

    /// `writeNumber(keyNumber:into:)` without a namer value (no reference counting on hot paths).
    @inlinable
    public static func writeNumber(keyNumber: Int64, hashed: Bool, zeroPadding: Int, into out: UnsafeMutableRawPointer) -> Int {
        let n = hashed ? YCSBHash.fnv64(keyNumber) : keyNumber
        let negative = n < 0
        let magnitude = negative ? UInt64(bitPattern: n).magnitudeOfNegative : UInt64(n)
        let digits = Self.decimalDigitCount(magnitude)
        let printed = digits + (negative ? 1 : 0)
        var at = 0
        if printed < zeroPadding {
            at = zeroPadding - printed
            out.initializeMemory(as: UInt8.self, repeating: 48, count: at)
        }
        if negative {
            out.storeBytes(of: 45, toByteOffset: at, as: UInt8.self)  // "-"
            at += 1
        }
        let pairs = Self.digitPairs.utf8Start
        var end = at + digits
        var v = magnitude
        // Four digits per division (two table lookups), then pairs, then the last one or two.
        while v >= 10_000 {
            let chunk = Int(v % 10_000)
            v /= 10_000
            let high = chunk / 100, low = chunk % 100
            end -= 4
            out.storeBytes(of: pairs[2 * high], toByteOffset: end, as: UInt8.self)
            out.storeBytes(of: pairs[2 * high + 1], toByteOffset: end + 1, as: UInt8.self)
            out.storeBytes(of: pairs[2 * low], toByteOffset: end + 2, as: UInt8.self)
            out.storeBytes(of: pairs[2 * low + 1], toByteOffset: end + 3, as: UInt8.self)
        }
        if v >= 100 {
            let r = Int(v % 100)
            v /= 100
            end -= 2
            out.storeBytes(of: pairs[2 * r], toByteOffset: end, as: UInt8.self)
            out.storeBytes(of: pairs[2 * r + 1], toByteOffset: end + 1, as: UInt8.self)
        }
        if v >= 10 {
            let r = Int(v)
            out.storeBytes(of: pairs[2 * r], toByteOffset: end - 2, as: UInt8.self)
            out.storeBytes(of: pairs[2 * r + 1], toByteOffset: end - 1, as: UInt8.self)
        } else {
            out.storeBytes(of: UInt8(truncatingIfNeeded: v) &+ 48, toByteOffset: end - 1, as: UInt8.self)
        }
        return at + digits
    }

    @usableFromInline
    static let digitPairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// Decimal digits of `v` without a loop: the bit length gives the count or one less (log10(2) ≈
    /// 1233 / 4096), and one comparison with the power of ten settles it.
    @inlinable
    static func decimalDigitCount(_ v: UInt64) -> Int {
        let bits = 64 - (v | 1).leadingZeroBitCount
        let guess = (bits &* 1233) >> 12  // floor(log10(2^bits)): the count is guess or guess + 1
        return guess + ((v | 1) >= powerOfTen(guess) ? 1 : 0)  // v | 1: zero has one digit
    }

    /// 10^e for e in 0...19 (a switch of constants, which the compiler turns into a table lookup).
    @inlinable
    static func powerOfTen(_ e: Int) -> UInt64 {
        switch e {
        case 0: return 1
        case 1: return 10
        case 2: return 100
        case 3: return 1_000
        case 4: return 10_000
        case 5: return 100_000
        case 6: return 1_000_000
        case 7: return 10_000_000
        case 8: return 100_000_000
        case 9: return 1_000_000_000
        case 10: return 10_000_000_000
        case 11: return 100_000_000_000
        case 12: return 1_000_000_000_000
        case 13: return 10_000_000_000_000
        case 14: return 100_000_000_000_000
        case 15: return 1_000_000_000_000_000
        case 16: return 10_000_000_000_000_000
        case 17: return 100_000_000_000_000_000
        case 18: return 1_000_000_000_000_000_000
        default: return 10_000_000_000_000_000_000
        }
    }

    /// The key for `keyNumber` as a String (convenient, allocates: not for the hot path).
    public func key(_ keyNumber: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: maximumLength)
        let length = bytes.withUnsafeMutableBytes { write(keyNumber: keyNumber, into: $0) }
        return String(decoding: bytes[0..<length], as: UTF8.self)
    }
}

extension UInt64 {
    /// The magnitude of this bit pattern read as a negative Int64 (handles Int64.min).
    @usableFromInline
    var magnitudeOfNegative: UInt64 { 0 &- self }
}
