/// One index shard: a lock, its hash table, and byte counters. All fields are guarded by `lock`;
/// critical sections touch memory only (no system calls).
final class Shard: @unchecked Sendable {
    let lock = ConditionLock()
    var table = IndexTable()
    var keyBytes = 0
    var valueBytes = 0
    var heapBytes = 0
    /// Where the next `expireSome` sweep of this shard starts.
    var sweepCursor = 0
    /// Keys in the table by their first byte (empty keys are not counted): a store that keeps each kind
    /// of key under its own one-byte prefix counts a kind without walking the table.
    let keysByFirstByte: UnsafeMutablePointer<Int> = {
        let p = UnsafeMutablePointer<Int>.allocate(capacity: 256)
        p.initialize(repeating: 0, count: 256)
        return p
    }()

    deinit {
        table.destroy()
        keysByFirstByte.deallocate()
    }

    @inline(__always) func didInsert(_ e: Entry) {
        keyBytes += e.keyLength
        valueBytes += e.valueLength
        heapBytes += e.heapBytes
        if e.keyLength > 0 { keysByFirstByte[Int(e.key[0])] += 1 }
    }

    @inline(__always) func didRemove(_ e: Entry) {
        keyBytes -= e.keyLength
        valueBytes -= e.valueLength
        heapBytes -= e.heapBytes
        if e.keyLength > 0 { keysByFirstByte[Int(e.key[0])] -= 1 }
    }

    /// `new` took the place of `old` under the same key: the key count by first byte does not change.
    @inline(__always) func didReplace(_ old: Entry, with new: Entry) {
        valueBytes += new.valueLength - old.valueLength
        heapBytes += new.heapBytes - old.heapBytes
    }

    /// After the table was emptied.
    func resetCounters() {
        keyBytes = 0
        valueBytes = 0
        heapBytes = 0
        keysByFirstByte.update(repeating: 0, count: 256)
    }

    /// Removes and frees the entry at `slot`.
    @inline(__always) func removeAndFree(slot: Int) {
        let e = table[slot]
        table.remove(slot: slot)
        didRemove(e)
        e.free()
    }
}
