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
        let n = printedNumber(keyNumber)
        let negative = n < 0
        var magnitude = negative ? UInt64(bitPattern: n).magnitudeOfNegative : UInt64(n)
        // Digits, least significant first, into a small stack scratch.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[count] = UInt8(truncatingIfNeeded: magnitude % 10) &+ 48
                magnitude /= 10
                count += 1
            } while magnitude != 0
        }
        var at = 0
        for byte in prefix {
            buffer[at] = byte
            at += 1
        }
        let printedLength = count + (negative ? 1 : 0)
        if printedLength < zeroPadding {
            for _ in 0..<(zeroPadding - printedLength) {
                buffer[at] = 48
                at += 1
            }
        }
        if negative {
            buffer[at] = 45  // "-"
            at += 1
        }
        withUnsafeBytes(of: &digits) { scratch in
            var i = count - 1
            while i >= 0 {
                buffer[at] = scratch[i]
                at += 1
                i -= 1
            }
        }
        return at
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
