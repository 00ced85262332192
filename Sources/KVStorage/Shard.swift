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

    deinit { table.destroy() }

    @inline(__always) func didInsert(_ e: Entry) {
        keyBytes += e.keyLength
        valueBytes += e.valueLength
        heapBytes += e.heapBytes
    }

    @inline(__always) func didRemove(_ e: Entry) {
        keyBytes -= e.keyLength
        valueBytes -= e.valueLength
        heapBytes -= e.heapBytes
    }

    /// Removes and frees the entry at `slot`.
    @inline(__always) func removeAndFree(slot: Int) {
        let e = table[slot]
        table.remove(slot: slot)
        didRemove(e)
        e.free()
    }
}
