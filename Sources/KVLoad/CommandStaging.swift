/// The commands a connection has encoded since its last flush, in memory the connection owns. Encoding an
/// operation is one capacity check and plain stores (no `ByteBuffer` index and copy-on-write bookkeeping per
/// command); a flush hands the whole batch to NIO in one copy. Not copyable: one owner frees the memory.
struct CommandStaging: ~Copyable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// Bytes staged.
    private(set) var count = 0

    init(capacity: Int = 4096) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { base.deallocate() }

    /// Where the next `length` bytes go (room is made for them); `commit` the bytes actually stored.
    @inline(__always)
    mutating func reserve(_ length: Int) -> UnsafeMutableRawPointer {
        if length > capacity - count { grow(toHold: count + length) }
        return base + count
    }

    /// Adds `length` bytes stored at the pointer `reserve` returned.
    @inline(__always)
    mutating func commit(_ length: Int) {
        precondition(length >= 0 && length <= capacity - count, "committed more than was reserved")
        count += length
    }

    /// The staged bytes (valid until the next `reserve` or `removeAll`).
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Forgets the staged bytes, keeping the memory.
    mutating func removeAll() { count = 0 }

    @inline(never)
    private mutating func grow(toHold needed: Int) {
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}
