/// An open-addressing hash table of `Entry` pointers: linear probing, backward-shift deletion,
/// power-of-two capacity, grown at 3/4 load. Not thread-safe: each shard guards one with its lock.
///
/// Each slot is one word (8 bytes): the entry's address in the low 48 bits and a 16-bit tag from its
/// hash in the high 16, so a probe skips a non-matching slot without reading that entry (a cache miss
/// per probe otherwise; user-space addresses fit 48 bits on x86-64 and arm64 Linux). 0 is empty.
struct IndexTable {
    private var words: UnsafeMutablePointer<UInt>
    private(set) var capacity: Int
    private(set) var count = 0
    private var shift: Int

    private static let addressMask: UInt = (1 << 48) - 1

    init(initialCapacity: Int = 16) {
        var cap = 16
        while cap < initialCapacity { cap <<= 1 }
        capacity = cap
        shift = 64 - cap.trailingZeroBitCount
        words = .allocate(capacity: cap)
        words.initialize(repeating: 0, count: cap)
    }

    /// Frees the slot array and every entry.
    mutating func destroy() {
        removeAll()
        words.deallocate()
    }

    @inline(__always) private func home(_ hash: UInt64) -> Int {
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> UInt64(shift))
    }

    /// The tag bits of a hash, in place (the low 16 bits of the hash; `home` uses its mixed high bits).
    @inline(__always) private static func tag(_ hash: UInt64) -> UInt { UInt(truncatingIfNeeded: hash) << 48 }

    @inline(__always) private static func word(_ entry: Entry) -> UInt {
        let address = UInt(bitPattern: entry.raw)
        precondition(address & ~addressMask == 0, "an entry address above 48 bits")
        return address | tag(entry.hash)
    }

    @inline(__always) private static func pointer(_ word: UInt) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: word & addressMask).unsafelyUnwrapped
    }

    /// The entry in slot `i` (its raw pointer), or nil when the slot is empty.
    @inline(__always) func raw(at i: Int) -> UnsafeMutableRawPointer? {
        let w = words[i]
        return w == 0 ? nil : Self.pointer(w)
    }

    /// Slot index of the entry with this key, or nil.
    @inline(__always) func find(hash: UInt64, key: UnsafeRawBufferPointer) -> Int? {
        let mask = capacity - 1
        let tag = Self.tag(hash)
        var i = home(hash)
        while true {
            let w = words[i]
            if w == 0 { return nil }
            if w & ~Self.addressMask == tag && Entry(Self.pointer(w)).matches(hash: hash, key: key) { return i }
            i = (i + 1) & mask
        }
    }

    @inline(__always) subscript(slot: Int) -> Entry { Entry(Self.pointer(words[slot])) }

    /// Replaces the entry in an occupied slot with one of the same key (the caller frees the old one).
    @inline(__always) mutating func replace(slot: Int, with entry: Entry) { words[slot] = Self.word(entry) }

    /// Inserts an entry whose key is known to be absent.
    mutating func insertNew(_ entry: Entry) {
        if (count + 1) * 4 > capacity * 3 { resize(to: capacity * 2) }
        let mask = capacity - 1
        var i = home(entry.hash)
        while words[i] != 0 { i = (i + 1) & mask }
        words[i] = Self.word(entry)
        count += 1
    }

    /// Removes the entry at `slot` (the caller frees it) and shifts followers back.
    mutating func remove(slot: Int) {
        let mask = capacity - 1
        var hole = slot
        var i = (slot + 1) & mask
        while words[i] != 0 {
            let w = words[i]
            let h = home(Entry(Self.pointer(w)).hash)
            // The entry at i may move into the hole when its home is not in (hole, i] cyclically.
            let distToHome = (i - h) & mask
            let distToHole = (i - hole) & mask
            if distToHome >= distToHole {
                words[hole] = w
                hole = i
            }
            i = (i + 1) & mask
        }
        words[hole] = 0
        count -= 1
    }

    /// Frees every entry and empties the table (capacity is kept).
    mutating func removeAll() {
        for i in 0..<capacity where words[i] != 0 {
            Self.pointer(words[i]).deallocate()
            words[i] = 0
        }
        count = 0
    }

    /// Keeps the entries for which `keep` returns true (frees the others) and rebuilds the table.
    mutating func retain(_ keep: (Entry) -> Bool) {
        var survivors: [Entry] = []
        survivors.reserveCapacity(count)
        for i in 0..<capacity where words[i] != 0 {
            let e = Entry(Self.pointer(words[i]))
            if keep(e) { survivors.append(e) } else { e.raw.deallocate() }
            words[i] = 0
        }
        var rebuilt = IndexTable(initialCapacity: survivors.count * 4 / 3 + 1)
        for e in survivors { rebuilt.insertNew(e) }
        words.deallocate()
        self = rebuilt
    }

    private mutating func resize(to newCapacity: Int) {
        let old = words
        let oldCapacity = capacity
        capacity = newCapacity
        shift = 64 - newCapacity.trailingZeroBitCount
        words = .allocate(capacity: newCapacity)
        words.initialize(repeating: 0, count: newCapacity)
        let mask = newCapacity - 1
        for j in 0..<oldCapacity where old[j] != 0 {
            var i = home(Entry(Self.pointer(old[j])).hash)
            while words[i] != 0 { i = (i + 1) & mask }
            words[i] = old[j]
        }
        old.deallocate()
    }

    var slotBytes: Int { capacity * MemoryLayout<UInt>.stride }
}
