/// Raw-memory building blocks for the fused writers: a caller reserves the exact length once
/// (`ByteBuffer.writeWithUnsafeMutableBytes`) and stores header, payload and trailer with plain copies,
/// instead of one bounds-checked `ByteBuffer` call per piece.
public enum RESPEncoding {
    @usableFromInline static let getHeader: StaticString = "*2\r\n$3\r\nGET\r\n"
    @usableFromInline static let setHeader: StaticString = "*3\r\n$3\r\nSET\r\n"

    /// Number of decimal digits of `magnitude` (1 for 0).
    @inlinable
    public static func decimalDigits(_ magnitude: UInt64) -> Int {
        // Lengths and counts in RESP are nearly always below 10,000: answer those without a loop.
        if magnitude < 10 { return 1 }
        if magnitude < 100 { return 2 }
        if magnitude < 1000 { return 3 }
        if magnitude < 10_000 { return 4 }
        var digits = 5
        var probe = magnitude / 10_000
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        return digits
    }

    /// Stores the `digits` decimal digits of `magnitude` (`decimalDigits(magnitude)` of them) at `at`.
    @inlinable @inline(__always)
    public static func storeDigits(of magnitude: UInt64, count digits: Int, at: UnsafeMutableRawPointer) {
        if digits <= 3 {
            // One to three digits (most bulk lengths): plain stores, no loop.
            let m = Int(truncatingIfNeeded: magnitude)
            let zero = UInt8(ascii: "0")
            switch digits {
            case 1:
                at.storeBytes(of: zero &+ UInt8(truncatingIfNeeded: m), as: UInt8.self)
            case 2:
                at.storeBytes(of: zero &+ UInt8(truncatingIfNeeded: m / 10), as: UInt8.self)
                at.storeBytes(of: zero &+ UInt8(truncatingIfNeeded: m % 10), toByteOffset: 1, as: UInt8.self)
            default:
                at.storeBytes(of: zero &+ UInt8(truncatingIfNeeded: m / 100), as: UInt8.self)
                at.storeBytes(of: zero &+ UInt8(truncatingIfNeeded: m / 10 % 10), toByteOffset: 1, as: UInt8.self)
                at.storeBytes(of: zero &+ UInt8(truncatingIfNeeded: m % 10), toByteOffset: 2, as: UInt8.self)
            }
            return
        }
        var position = digits - 1
        var rest = magnitude
        repeat {
            at.storeBytes(of: UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10), toByteOffset: position, as: UInt8.self)
            rest /= 10
            position -= 1
        } while rest > 0
    }

    /// Bytes of `$<count>\r\n<payload>\r\n`.
    @inlinable
    public static func bulkStringLength(_ count: Int) -> Int {
        1 + decimalDigits(UInt64(count)) + 2 + count + 2
    }

    /// Stores `$<len>\r\n<bytes>\r\n` at `at` (room for `bulkStringLength(bytes.count)` bytes) and returns
    /// the number of bytes stored.
    @inlinable
    @discardableResult
    public static func storeBulkString(_ bytes: UnsafeRawBufferPointer, at: UnsafeMutableRawPointer) -> Int {
        let count = bytes.count
        let digits = decimalDigits(UInt64(count))
        at.storeBytes(of: UInt8(ascii: "$"), as: UInt8.self)
        storeDigits(of: UInt64(count), count: digits, at: at + 1)
        at.storeBytes(of: asciiCR, toByteOffset: digits + 1, as: UInt8.self)
        at.storeBytes(of: asciiLF, toByteOffset: digits + 2, as: UInt8.self)
        let payload = digits + 3
        if count > 0 { (at + payload).copyMemory(from: bytes.baseAddress!, byteCount: count) }
        at.storeBytes(of: asciiCR, toByteOffset: payload + count, as: UInt8.self)
        at.storeBytes(of: asciiLF, toByteOffset: payload + count + 1, as: UInt8.self)
        return payload + count + 2
    }
}
