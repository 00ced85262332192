/// One key/value pair in memory: a single raw allocation holding a 40-byte header followed by the
/// key and value bytes. Layout (native endianness, 8-byte aligned):
/// `hash(8) seq(8) expiry(8) segment(4) offset(4) keyLength(4) valueLength(4) key value`.
/// `segment`/`offset` locate the record in the log (used for dead-byte accounting and merge).
/// During recovery only, `valueLength == Entry.shadowMarker` marks a tombstone or expired record
/// that still shadows older versions of its key; such entries never reach the live index.
struct Entry {
    let raw: UnsafeMutableRawPointer

    static let headerSize = 40
    static let shadowMarker = UInt32.max

    @inline(__always) init(_ raw: UnsafeMutableRawPointer) { self.raw = raw }

    static func allocate(
        hash: UInt64, sequence: UInt64, expiry: Int64, segment: UInt32, offset: UInt32,
        key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer?
    ) -> Entry {
        let valueCount = value?.count ?? 0
        let raw = UnsafeMutableRawPointer.allocate(byteCount: headerSize + key.count + valueCount, alignment: 8)
        raw.storeBytes(of: hash, as: UInt64.self)
        raw.storeBytes(of: sequence, toByteOffset: 8, as: UInt64.self)
        raw.storeBytes(of: expiry, toByteOffset: 16, as: Int64.self)
        raw.storeBytes(of: segment, toByteOffset: 24, as: UInt32.self)
        raw.storeBytes(of: offset, toByteOffset: 28, as: UInt32.self)
        raw.storeBytes(of: UInt32(key.count), toByteOffset: 32, as: UInt32.self)
        raw.storeBytes(of: value == nil ? shadowMarker : UInt32(valueCount), toByteOffset: 36, as: UInt32.self)
        if key.count > 0 { (raw + headerSize).copyMemory(from: key.baseAddress!, byteCount: key.count) }
        if let value, valueCount > 0 { (raw + headerSize + key.count).copyMemory(from: value.baseAddress!, byteCount: valueCount) }
        return Entry(raw)
    }

    @inline(__always) func free() { raw.deallocate() }

    @inline(__always) var hash: UInt64 { raw.load(as: UInt64.self) }
    @inline(__always) var sequence: UInt64 { raw.load(fromByteOffset: 8, as: UInt64.self) }
    @inline(__always) var expiry: Int64 { raw.load(fromByteOffset: 16, as: Int64.self) }
    @inline(__always) var segment: UInt32 { raw.load(fromByteOffset: 24, as: UInt32.self) }
    @inline(__always) var offset: UInt32 { raw.load(fromByteOffset: 28, as: UInt32.self) }
    @inline(__always) var keyLength: Int { Int(raw.load(fromByteOffset: 32, as: UInt32.self)) }
    @inline(__always) var isShadow: Bool { raw.load(fromByteOffset: 36, as: UInt32.self) == Entry.shadowMarker }
    @inline(__always) var valueLength: Int {
        let v = raw.load(fromByteOffset: 36, as: UInt32.self)
        return v == Entry.shadowMarker ? 0 : Int(v)
    }

    @inline(__always) func setLocation(segment: UInt32, offset: UInt32) {
        raw.storeBytes(of: segment, toByteOffset: 24, as: UInt32.self)
        raw.storeBytes(of: offset, toByteOffset: 28, as: UInt32.self)
    }

    @inline(__always) var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw + Entry.headerSize, count: keyLength)
    }

    @inline(__always) var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: raw + Entry.headerSize + keyLength, count: valueLength)
    }

    /// Size of this entry's record in the log (shadows count as tombstones: no value bytes).
    @inline(__always) var recordSize: Int { RecordFormat.size(keyLength: keyLength, valueLength: valueLength) }

    @inline(__always) func isExpired(now: Int64) -> Bool {
        let e = expiry
        return e != 0 && e <= now
    }

    @inline(__always) func matches(hash h: UInt64, key k: UnsafeRawBufferPointer) -> Bool {
        guard hash == h, keyLength == k.count else { return false }
        if k.count == 0 { return true }
        return memcmp(raw + Entry.headerSize, k.baseAddress!, k.count) == 0
    }

    /// Bytes this entry occupies on the heap, rounded up to a 16-byte allocator class (an estimate).
    @inline(__always) var heapBytes: Int { (Entry.headerSize + keyLength + valueLength + 15) & ~15 }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
