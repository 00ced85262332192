extension StorageEngine {
    /// Copies out every live key that starts with `prefix`, with its value. Takes each shard's lock in
    /// turn and walks its whole table: for start-up loading and operator tools, never the hot path.
    public func entries(withPrefix prefix: [UInt8]) -> [(key: [UInt8], value: [UInt8])] {
        var found: [(key: [UInt8], value: [UInt8])] = []
        let t = now()
        for s in shards {
            s.lock.lock()
            for i in 0..<s.table.capacity {
                guard let raw = s.table.slots[i] else { continue }
                let e = Entry(raw)
                if e.expiry != 0 && e.isExpired(now: t) { continue }
                let key = e.key
                guard key.count >= prefix.count, prefix.indices.allSatisfy({ key[$0] == prefix[$0] }) else { continue }
                found.append((Array(key), Array(e.value)))
            }
            s.lock.unlock()
        }
        return found
    }

    /// Copies out every live key that starts with `prefix`, without the prefix and without values (a ring
    /// change walks all keys; copying values too cost several times more). Same locking as `entries`.
    public func keys(withPrefix prefix: [UInt8]) -> [[UInt8]] {
        var found: [[UInt8]] = []
        let t = now()
        for s in shards {
            s.lock.lock()
            found.reserveCapacity(found.count + s.table.count)
            for i in 0..<s.table.capacity {
                guard let raw = s.table.slots[i] else { continue }
                let e = Entry(raw)
                if e.expiry != 0 && e.isExpired(now: t) { continue }
                let key = e.key
                guard key.count >= prefix.count, prefix.indices.allSatisfy({ key[$0] == prefix[$0] }) else { continue }
                found.append(Array(key.dropFirst(prefix.count)))
            }
            s.lock.unlock()
        }
        return found
    }
}
