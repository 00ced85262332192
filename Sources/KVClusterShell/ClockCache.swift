/// A bounded key → value map that keeps the entries in use and evicts the others with the CLOCK
/// (second-chance) policy: every slot has a "referenced" bit that a hit sets; when a new key needs a
/// slot and none is free, a hand sweeps the slots in a circle, clearing set bits, and evicts the first
/// entry whose bit is already clear. A key read again between two sweeps survives; a key written once
/// and never read again goes at the next pass. Every operation is O(1) amortized.
///
/// Evicting by slot, not by dictionary position, matters: removing a Swift `Dictionary`'s `startIndex`
/// entry over and over empties the low buckets of its open-addressing table and piles every key into
/// the high ones, and lookups then walk ever longer probe runs (that made `find` half of a cluster
/// coordinator's CPU before this type replaced it).
public struct ClockCache<Key: Hashable, Value> {
    private struct Slot {
        var key: Key
        var value: Value
        var referenced: Bool
    }

    /// Slot index of every cached key.
    private var slotOf: [Key: Int] = [:]
    /// Slots in clock order; they only grow until `capacity`, then are reused.
    private var slots: [Slot?] = []
    /// Slots emptied by `removeValue` (reused before the hand evicts anything).
    private var free: [Int] = []
    private var hand = 0
    /// Most entries kept (0 keeps none).
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(0, capacity)
        slotOf.reserveCapacity(self.capacity)
    }

    /// Entries cached now.
    public var count: Int { slotOf.count }

    /// The cached value for `key`, marking it referenced (so the next sweep spares it).
    public mutating func value(for key: Key) -> Value? {
        guard let s = slotOf[key] else { return nil }
        slots[s]!.referenced = true
        return slots[s]!.value
    }

    /// Caches `value` for `key`, replacing what it held; a new key may evict another entry. A new
    /// entry starts unreferenced: it survives a sweep only if it is read (or written) again.
    public mutating func setValue(_ value: Value, for key: Key) {
        guard capacity > 0, !updateValue(value, for: key) else { return }
        let s = takeSlot()
        slots[s] = Slot(key: key, value: value, referenced: false)
        slotOf[key] = s
    }

    /// Forgets `key` (nothing happens if it is not cached).
    public mutating func removeValue(for key: Key) {
        guard let s = slotOf.removeValue(forKey: key) else { return }
        slots[s] = nil
        free.append(s)
    }

    /// The keys cached now, in no particular order (for tests and diagnostics).
    public var keys: Dictionary<Key, Int>.Keys { slotOf.keys }

    /// A slot for a new entry: a free one, a new one below capacity, or the hand's victim.
    private mutating func takeSlot() -> Int {
        if let s = free.popLast() { return s }
        if slots.count < capacity {
            slots.append(nil)
            return slots.count - 1
        }
        while true {
            let s = hand
            hand = hand + 1 == slots.count ? 0 : hand + 1
            guard let slot = slots[s] else { return s }
            if slot.referenced {
                slots[s]!.referenced = false
                continue
            }
            slotOf.removeValue(forKey: slot.key)
            slots[s] = nil
            return s
        }
    }
}

extension ClockCache {
    /// Replaces the value of a cached key; false (and nothing cached) when `key` is not cached.
    @discardableResult
    public mutating func updateValue(_ value: Value, for key: Key) -> Bool {
        guard let s = slotOf[key] else { return false }
        slots[s]!.value = value
        slots[s]!.referenced = true
        return true
    }
}

/// An admission filter for a cache (TinyLFU's "doorkeeper", direct-mapped): a key is worth caching
/// only when it was seen recently before. The first sighting only records the key's hash in a slot
/// chosen by that hash; a second sighting before another key's hash overwrites the slot admits it.
///
/// Under a uniform load over many more keys than the cache holds, almost nothing is admitted, so the
/// cache costs no inserts and evictions that could never pay off; a key read again soon (a hot key)
/// is admitted at its second miss.
public struct RecentSightings {
    private var slots: [Int]
    private let mask: Int

    /// `slots` is rounded up to a power of two (at least 1).
    public init(slots: Int) {
        var n = 1
        while n < slots { n <<= 1 }
        self.slots = Array(repeating: 0, count: n)
        mask = n - 1
    }

    /// True when `hash` was the last hash recorded in its slot (and clears the slot: a key is admitted
    /// once per pair of sightings); otherwise records it and returns false.
    public mutating func sawBefore(_ hash: Int) -> Bool {
        let tag = hash == 0 ? 1 : hash  // 0 marks an empty slot
        let i = tag & mask
        if slots[i] == tag {
            slots[i] = 0
            return true
        }
        slots[i] = tag
        return false
    }
}
