/// Raw-memory building blocks for the fused writers: a caller reserves the exact length once
/// (`ByteBuffer.writeWithUnsafeMutableBytes`) and stores header, payload and trailer with plain copies,
/// instead of one bounds-checked `ByteBuffer` call per piece.
public enum RESPEncoding {
    /// Command heads (array header and command name) of the commands a load generator sends.
    public static let getHeader: StaticString = "*2\r\n$3\r\nGET\r\n"
    public static let setHeader: StaticString = "*3\r\n$3\r\nSET\r\n"
    public static let delHeader: StaticString = "*2\r\n$3\r\nDEL\r\n"

    /// Number of decimal digits of `magnitude` (1 for 0).
    @inlinable @inline(__always)
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

    /// Bytes of `$<count>\r\n<payload>\r\n`. (Lengths here are sizes of bytes in memory, far from overflowing,
    /// so the encoders add with wrapping arithmetic and carry no overflow branches.)
    @inlinable @inline(__always)
    public static func bulkStringLength(_ count: Int) -> Int {
        count &+ decimalDigits(UInt64(count)) &+ 5
    }

    /// Copies `count` bytes from `source` to `target` (not overlapping). Up to 32 bytes (keys, mostly) it is
    /// two pairs of overlapping unaligned loads and stores, not a call to `memmove`.
    @inlinable @inline(__always)
    public static func copy(_ source: UnsafeRawPointer, count: Int, to target: UnsafeMutableRawPointer) {
        if count >= 16, count <= 32 {
            let head = source.loadUnaligned(as: SIMD16<UInt8>.self)
            let tail = source.loadUnaligned(fromByteOffset: count &- 16, as: SIMD16<UInt8>.self)
            target.storeBytes(of: head, as: SIMD16<UInt8>.self)
            target.storeBytes(of: tail, toByteOffset: count &- 16, as: SIMD16<UInt8>.self)
        } else if count >= 8, count < 16 {
            let head = source.loadUnaligned(as: UInt64.self)
            let tail = source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            target.storeBytes(of: head, as: UInt64.self)
            target.storeBytes(of: tail, toByteOffset: count &- 8, as: UInt64.self)
        } else if count > 0 {
            target.copyMemory(from: source, byteCount: count)
        }
    }

    /// Stores `$<len>\r\n<bytes>\r\n` at `at` (room for `bulkStringLength(bytes.count)` bytes) and returns
    /// the number of bytes stored.
    @inlinable @inline(__always)
    @discardableResult
    public static func storeBulkString(_ bytes: UnsafeRawBufferPointer, at: UnsafeMutableRawPointer) -> Int {
        let count = bytes.count
        let payload = storeHeader(UInt8(ascii: "$"), count, at: at)
        if let base = bytes.baseAddress { copy(base, count: count, to: at + payload) }
        storeCRLF(at: at + (payload &+ count))
        return payload &+ count &+ 2
    }

    /// Stores `<marker><count>\r\n` (`count` >= 0: a bulk string's `$` or an array's `*` header) at `at`;
    /// returns the bytes stored.
    @inlinable @inline(__always)
    @discardableResult
    public static func storeHeader(_ marker: UInt8, _ count: Int, at: UnsafeMutableRawPointer) -> Int {
        let digits = decimalDigits(UInt64(count))
        at.storeBytes(of: marker, as: UInt8.self)
        storeDigits(of: UInt64(count), count: digits, at: at + 1)
        storeCRLF(at: at + (digits &+ 1))
        return digits &+ 3
    }

    /// Stores `\r\n` at `at`.
    @inlinable @inline(__always)
    public static func storeCRLF(at: UnsafeMutableRawPointer) {
        at.storeBytes(of: asciiCR, as: UInt8.self)
        at.storeBytes(of: asciiLF, toByteOffset: 1, as: UInt8.self)
    }

    /// Bytes of `head` followed by a bulk string of `a` bytes.
    @inlinable @inline(__always)
    public static func commandLength(_ head: StaticString, _ a: Int) -> Int {
        head.utf8CodeUnitCount &+ bulkStringLength(a)
    }

    /// Bytes of `head` followed by bulk strings of `a` and `b` bytes.
    @inlinable @inline(__always)
    public static func commandLength(_ head: StaticString, _ a: Int, _ b: Int) -> Int {
        head.utf8CodeUnitCount &+ bulkStringLength(a) &+ bulkStringLength(b)
    }

    /// Stores `head` and `a` as a bulk string at `at` (room for `commandLength(head, a.count)` bytes);
    /// returns the bytes stored.
    @inlinable @inline(__always)
    @discardableResult
    public static func storeCommand(_ head: StaticString, _ a: UnsafeRawBufferPointer, at: UnsafeMutableRawPointer) -> Int {
        copy(head.utf8Start, count: head.utf8CodeUnitCount, to: at)
        return head.utf8CodeUnitCount &+ storeBulkString(a, at: at + head.utf8CodeUnitCount)
    }

    /// Stores `head`, then `a` and `b` as bulk strings, at `at` (room for `commandLength(head, a.count,
    /// b.count)` bytes); returns the bytes stored.
    @inlinable @inline(__always)
    @discardableResult
    public static func storeCommand(_ head: StaticString, _ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer,
                                    at: UnsafeMutableRawPointer) -> Int {
        let stored = storeCommand(head, a, at: at)
        return stored &+ storeBulkString(b, at: at + stored)
    }

    /// Bytes of an array header `*<count>\r\n` (`count` >= 0).
    @inlinable
    public static func arrayHeaderLength(_ count: Int) -> Int {
        1 + decimalDigits(UInt64(count)) + 2
    }

    /// Stores `*<count>\r\n` (`count` >= 0) at `at`; returns the bytes stored.
    @inlinable
    @discardableResult
    public static func storeArrayHeader(_ count: Int, at: UnsafeMutableRawPointer) -> Int {
        storeHeader(UInt8(ascii: "*"), count, at: at)
    }
}
