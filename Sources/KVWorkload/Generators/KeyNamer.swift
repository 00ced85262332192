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
        storeDigits(magnitude, count: digits, at: out + at)
        return at + digits
    }

    /// Stores the `count` decimal digits of `v` (`count == decimalDigitCount(v)`) at `out`, eight at a time.
    @inlinable @inline(__always)
    static func storeDigits(_ v: UInt64, count: Int, at out: UnsafeMutableRawPointer) {
        if count <= 8 {
            storeLast(count, of: eightDigits(v), at: out)
            return
        }
        let low = v % 100_000_000, high = v / 100_000_000
        // The leading group is stored as a whole word (its tail of zero digits lies inside the key and is
        // overwritten by the groups after it).
        if count <= 16 {
            out.storeBytes(of: (eightDigits(high) >> UInt64(8 * (16 - count))).littleEndian, as: UInt64.self)
        } else {
            out.storeBytes(of: (eightDigits(high / 100_000_000) >> UInt64(8 * (24 - count))).littleEndian, as: UInt64.self)
            out.storeBytes(of: eightDigits(high % 100_000_000).littleEndian, toByteOffset: count - 16, as: UInt64.self)
        }
        out.storeBytes(of: eightDigits(low).littleEndian, toByteOffset: count - 8, as: UInt64.self)
    }

    /// Stores the last `count` (1...8) digits of an `eightDigits` word at `out`, touching no byte after them.
    @inlinable @inline(__always)
    static func storeLast(_ count: Int, of word: UInt64, at out: UnsafeMutableRawPointer) {
        var w = word >> UInt64(8 * (8 - count))  // memory order is the low byte first: drop the leading zeros
        var at = 0
        if count & 8 != 0 {
            out.storeBytes(of: w.littleEndian, as: UInt64.self)
            return
        }
        if count & 4 != 0 {
            out.storeBytes(of: UInt32(truncatingIfNeeded: w).littleEndian, as: UInt32.self)
            w >>= 32
            at = 4
        }
        if count & 2 != 0 {
            out.storeBytes(of: UInt16(truncatingIfNeeded: w).littleEndian, toByteOffset: at, as: UInt16.self)
            w >>= 16
            at += 2
        }
        if count & 1 != 0 {
            out.storeBytes(of: UInt8(truncatingIfNeeded: w), toByteOffset: at, as: UInt8.self)
        }
    }

    /// The eight decimal digits of `x` (< 10^8, leading zeros included) as ASCII bytes packed in a word whose
    /// low byte is the first digit, computed in SIMD-within-a-register lanes: split into two 4-digit lanes,
    /// each into two 2-digit lanes, each into two 1-digit lanes, with multiply-and-shift divisions that are
    /// exact in these ranges (v·10486 >> 20 = v / 100 for v < 10^4; v·103 >> 10 = v / 10 for v < 100),
    /// masked so no lane's bits reach another's.
    @inlinable @inline(__always)
    static func eightDigits(_ x: UInt64) -> UInt64 {
        var v = (x / 10_000) | ((x % 10_000) << 32)
        let hundreds = ((v &* 10_486) >> 20) & 0x0000_007F_0000_007F
        v = hundreds | ((v &- 100 &* hundreds) << 16)
        let tens = ((v &* 103) >> 10) & 0x000F_000F_000F_000F
        v = tens | ((v &- 10 &* tens) << 8)
        return v | 0x3030_3030_3030_3030
    }

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
