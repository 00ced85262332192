/// An open-addressing hash table of `Entry` pointers: linear probing, backward-shift deletion,
/// power-of-two capacity, grown at 3/4 load. Not thread-safe: each shard guards one with its lock.
/// Each slot is one pointer (8 bytes); the hash is read from the entry itself.
struct IndexTable {
    private(set) var slots: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private(set) var capacity: Int
    private(set) var count = 0
    private var shift: Int

    init(initialCapacity: Int = 16) {
        var cap = 16
        while cap < initialCapacity { cap <<= 1 }
        capacity = cap
        shift = 64 - cap.trailingZeroBitCount
        slots = .allocate(capacity: cap)
        slots.initialize(repeating: nil, count: cap)
    }

    /// Frees the slot array and every entry.
    mutating func destroy() {
        removeAll()
        slots.deallocate()
    }

    @inline(__always) private func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// Slot index of the entry with this key, or nil.
    @inline(__always) func find(hash: UInt64, key: UnsafeRawBufferPointer) -> Int? {
        let mask = capacity - 1
        var i = home(hash)
        while let raw = slots[i] {
            if Entry(raw).matches(hash: hash, key: key) { return i }
            i = (i + 1) & mask
        }
        return nil
    }

    @inline(__always) subscript(slot: Int) -> Entry { Entry(slots[slot]!) }

    /// Replaces the entry in an occupied slot (the caller frees the old one).
    @inline(__always) mutating func replace(slot: Int, with entry: Entry) { slots[slot] = entry.raw }

    /// Inserts an entry whose key is known to be absent.
    mutating func insertNew(_ entry: Entry) {
        if (count + 1) * 4 > capacity * 3 { resize(to: capacity * 2) }
        let mask = capacity - 1
        var i = home(entry.hash)
        while slots[i] != nil { i = (i + 1) & mask }
        slots[i] = entry.raw
        count += 1
    }

    /// Removes the entry at `slot` (the caller frees it) and shifts followers back.
    mutating func remove(slot: Int) {
        let mask = capacity - 1
        var hole = slot
        var i = (slot + 1) & mask
        while let raw = slots[i] {
            let h = home(Entry(raw).hash)
            // The entry at i may move into the hole when its home is not in (hole, i] cyclically.
            let distToHome = (i - h) & mask
            let distToHole = (i - hole) & mask
            if distToHome >= distToHole {
                slots[hole] = raw
                hole = i
            }
            i = (i + 1) & mask
        }
        slots[hole] = nil
        count -= 1
    }

    /// Frees every entry and empties the table (capacity is kept).
    mutating func removeAll() {
        for i in 0..<capacity {
            if let raw = slots[i] {
                raw.deallocate()
                slots[i] = nil
            }
        }
        count = 0
    }

    private mutating func resize(to newCapacity: Int) {
        let old = slots
        let oldCapacity = capacity
        capacity = newCapacity
        shift = 64 - newCapacity.trailingZeroBitCount
        slots = .allocate(capacity: newCapacity)
        slots.initialize(repeating: nil, count: newCapacity)
        let mask = newCapacity - 1
        for j in 0..<oldCapacity {
            guard let raw = old[j] else { continue }
            var i = home(Entry(raw).hash)
            while slots[i] != nil { i = (i + 1) & mask }
            slots[i] = raw
        }
        old.deallocate()
    }

    var slotBytes: Int { capacity * MemoryLayout<UnsafeMutableRawPointer?>.stride }
}
