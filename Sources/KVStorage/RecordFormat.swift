import KVHash

/// The on-disk log record. All integers are little-endian and fixed width; the header is 34 bytes:
///
/// | offset | size | field                                                                |
/// |-------:|-----:|----------------------------------------------------------------------|
/// |      0 |    1 | magic/version, `0xB1` (format 1)                                      |
/// |      1 |    1 | flags: 0 = put, 1 = tombstone, 2 = flush marker                       |
/// |      2 |    8 | checksum: XXH3-64 of bytes 10..<end, seeded with `magic << 8 | flags` |
/// |     10 |    8 | sequence number (unique, increasing across the whole store)           |
/// |     18 |    4 | key length                                                            |
/// |     22 |    4 | value length (0 for tombstones and flush markers)                     |
/// |     26 |    8 | expiry, ms since the Unix epoch, 0 = none                             |
/// |     34 |    … | key bytes, then value bytes                                           |
///
/// Seeding the checksum with magic and flags makes it cover every byte of the record. A flush
/// marker (written by `flushAll`) deletes every record with a smaller sequence number; its key is empty.
/// Recovery resolves duplicates by the highest sequence number, independent of file order.
enum RecordFormat {
    static let magic: UInt8 = 0xB1
    static let headerSize = 34
    /// Sanity bound used while parsing (larger lengths are treated as corruption).
    static let maxFieldLength = 1 << 30

    enum Kind: UInt8 {
        case put = 0
        case tombstone = 1
        case flush = 2
    }

    @inline(__always) static func size(keyLength: Int, valueLength: Int) -> Int {
        headerSize + keyLength + valueLength
    }

    /// Writes a whole record at `dest` (which must have `size(...)` bytes) and returns its size.
    @discardableResult
    static func encode(
        into dest: UnsafeMutableRawPointer, kind: Kind, sequence: UInt64, expiry: Int64,
        key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
    ) -> Int {
        let total = size(keyLength: key.count, valueLength: value.count)
        dest.storeBytes(of: magic, as: UInt8.self)
        dest.storeBytes(of: kind.rawValue, toByteOffset: 1, as: UInt8.self)
        dest.storeBytes(of: sequence.littleEndian, toByteOffset: 10, as: UInt64.self)
        dest.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: 18, as: UInt32.self)
        dest.storeBytes(of: UInt32(value.count).littleEndian, toByteOffset: 22, as: UInt32.self)
        dest.storeBytes(of: expiry.littleEndian, toByteOffset: 26, as: Int64.self)
        if key.count > 0 { (dest + headerSize).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if value.count > 0 { (dest + headerSize + key.count).copyMemory(from: value.baseAddress!, byteCount: value.count) }
        let sum = checksum(UnsafeRawBufferPointer(start: dest + 10, count: total - 10), kind: kind.rawValue)
        dest.storeBytes(of: sum.littleEndian, toByteOffset: 2, as: UInt64.self)
        return total
    }

    @inline(__always) static func checksum(_ body: UnsafeRawBufferPointer, kind: UInt8) -> UInt64 {
        XXH3.hash(body, seed: UInt64(magic) << 8 | UInt64(kind))
    }

    /// A parsed record: positions are relative to the buffer passed to `decode`.
    struct View {
        var kind: Kind
        var sequence: UInt64
        var expiry: Int64
        var offset: Int
        var keyLength: Int
        var valueLength: Int
        var size: Int { RecordFormat.size(keyLength: keyLength, valueLength: valueLength) }
        var keyOffset: Int { offset + RecordFormat.headerSize }
        var valueOffset: Int { keyOffset + keyLength }
    }

    enum Decoded {
        case record(View)
        /// The bytes end before the record does (a torn tail if nothing valid follows).
        case incomplete(String)
        case bad(String)
    }

    /// Parses and verifies the record starting at `offset`.
    static func decode(_ buf: UnsafeRawBufferPointer, at offset: Int) -> Decoded {
        let remaining = buf.count - offset
        guard remaining > 0 else { return .incomplete("end of data") }
        let p = buf.baseAddress! + offset
        guard p.load(as: UInt8.self) == magic else { return .bad("bad magic byte") }
        guard remaining >= headerSize else { return .incomplete("partial header") }
        guard let kind = Kind(rawValue: p.load(fromByteOffset: 1, as: UInt8.self)) else { return .bad("unknown flags") }
        let keyLength = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 18, as: UInt32.self)))
        let valueLength = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 22, as: UInt32.self)))
        guard keyLength <= maxFieldLength, valueLength <= maxFieldLength else { return .bad("implausible length") }
        let total = size(keyLength: keyLength, valueLength: valueLength)
        guard remaining >= total else { return .incomplete("record extends past end of file") }
        let stored = UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
        guard stored == checksum(UnsafeRawBufferPointer(start: p + 10, count: total - 10), kind: kind.rawValue) else {
            return .bad("checksum mismatch")
        }
        return .record(View(
            kind: kind,
            sequence: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 10, as: UInt64.self)),
            expiry: Int64(littleEndian: p.loadUnaligned(fromByteOffset: 26, as: Int64.self)),
            offset: offset, keyLength: keyLength, valueLength: valueLength))
    }
}

/// A hint file (`NNNNNNNN.hint`) lists the records of a merged segment without their values:
/// per record `kind(1) seq(8) offset(4) size(4) expiry(8) keyLength(4) key`, then a 16-byte
/// trailer `count(8) checksum(8)` where the checksum is XXH3-64 of everything before the trailer.
/// Little-endian throughout. The segment stays authoritative: a hint that fails validation, or
/// that disagrees with the segment, is ignored and the segment is scanned instead.
enum HintFormat {
    static let entryHeaderSize = 29
    static let trailerSize = 16

    struct Entry {
        var kind: RecordFormat.Kind
        var sequence: UInt64
        var offset: Int
        var size: Int
        var expiry: Int64
        var keyOffset: Int  // in the hint buffer
        var keyLength: Int
    }

    static func append(to sink: ByteSink, kind: RecordFormat.Kind, sequence: UInt64, offset: Int, size: Int,
                       expiry: Int64, key: UnsafeRawBufferPointer) {
        let p = sink.reserve(entryHeaderSize + key.count)
        p.storeBytes(of: kind.rawValue, as: UInt8.self)
        p.storeBytes(of: sequence.littleEndian, toByteOffset: 1, as: UInt64.self)
        p.storeBytes(of: UInt32(offset).littleEndian, toByteOffset: 9, as: UInt32.self)
        p.storeBytes(of: UInt32(size).littleEndian, toByteOffset: 13, as: UInt32.self)
        p.storeBytes(of: expiry.littleEndian, toByteOffset: 17, as: Int64.self)
        p.storeBytes(of: UInt32(key.count).littleEndian, toByteOffset: 25, as: UInt32.self)
        if key.count > 0 { (p + entryHeaderSize).copyMemory(from: key.baseAddress!, byteCount: key.count) }
    }

    static func finish(_ sink: ByteSink, count: Int) {
        let sum = XXH3.hash(sink.bytes)
        let p = sink.reserve(trailerSize)
        p.storeBytes(of: UInt64(count).littleEndian, as: UInt64.self)
        p.storeBytes(of: sum.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// Parses a whole hint file; nil when it is damaged.
    static func parse(_ buf: UnsafeRawBufferPointer) -> [Entry]? {
        guard buf.count >= trailerSize else { return nil }
        let bodyCount = buf.count - trailerSize
        let base = buf.baseAddress!
        let declared = UInt64(littleEndian: (base + bodyCount).loadUnaligned(as: UInt64.self))
        let sum = UInt64(littleEndian: (base + bodyCount).loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard XXH3.hash(UnsafeRawBufferPointer(start: base, count: bodyCount)) == sum else { return nil }
        // The checksum does not cover the count: bound it by what the body can hold before using it.
        guard declared <= UInt64(bodyCount / entryHeaderSize) else { return nil }
        let count = Int(declared)
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        var pos = 0
        while pos < bodyCount {
            guard bodyCount - pos >= entryHeaderSize else { return nil }
            let p = base + pos
            guard let kind = RecordFormat.Kind(rawValue: p.load(as: UInt8.self)) else { return nil }
            let keyLength = Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 25, as: UInt32.self)))
            guard bodyCount - pos - entryHeaderSize >= keyLength else { return nil }
            entries.append(Entry(
                kind: kind,
                sequence: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 1, as: UInt64.self)),
                offset: Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 9, as: UInt32.self))),
                size: Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 13, as: UInt32.self))),
                expiry: Int64(littleEndian: p.loadUnaligned(fromByteOffset: 17, as: Int64.self)),
                keyOffset: pos + entryHeaderSize, keyLength: keyLength))
            pos += entryHeaderSize + keyLength
        }
        return entries.count == count ? entries : nil
    }
}

/// A growable byte buffer with stable manual memory (pending log bytes, merge output, hints; a load
/// generator's staged commands).
public final class ByteSink: @unchecked Sendable {
    // Stored properties are set only by this class; `@usableFromInline` (not `private(set)`) so the inlined
    // `reserve` of other modules may update them.
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    @usableFromInline var used = 0

    /// Bytes appended since the last `reset`.
    public var count: Int { used }

    public init(capacity: Int = 64 * 1024) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: used) }

    /// Appends `n` uninitialised bytes and returns where they start.
    @inlinable @inline(__always)
    public func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if used + n > capacity { grow(to: used + n) }
        let p = base + used
        used += n
        return p
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        reserve(bytes.count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
    }

    @usableFromInline
    func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newBase.copyMemory(from: base, byteCount: used)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Empties the buffer; releases memory above `keep` bytes so one huge batch does not pin it.
    public func reset(keep: Int = 4 << 20) {
        used = 0
        if capacity > keep {
            base.deallocate()
            capacity = keep
            base = .allocate(byteCount: keep, alignment: 16)
        }
    }
}
