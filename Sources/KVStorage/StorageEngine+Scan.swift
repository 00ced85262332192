extension StorageEngine {
    /// Copies out every live key that starts with `prefix`, with its value. Takes each shard's lock in
    /// turn and walks its whole table: for start-up loading and operator tools, never the hot path.
    public func entries(withPrefix prefix: [UInt8]) -> [(key: [UInt8], value: [UInt8])] {
        var found: [(key: [UInt8], value: [UInt8])] = []
        forEachLive(withPrefix: prefix) { key, value in found.append((Array(key), Array(value))) }
        return found
    }

    /// Copies out every live key that starts with `prefix`, without the prefix and without values (a ring
    /// change walks all keys; copying values too cost several times more). Same locking as `entries`.
    public func keys(withPrefix prefix: [UInt8]) -> [[UInt8]] {
        var found: [[UInt8]] = []
        forEachLive(withPrefix: prefix) { key, _ in found.append(Array(key.dropFirst(prefix.count))) }
        return found
    }

    /// How many live keys start with `prefix` (nothing copied). Same locking as `entries`.
    public func count(withPrefix prefix: [UInt8]) -> Int {
        var n = 0
        forEachLive(withPrefix: prefix) { _, _ in n += 1 }
        return n
    }

    /// Calls `body` with the key and value bytes of every live (unexpired) entry whose key starts with
    /// `prefix`, each shard under its lock in turn; the buffers are valid only during the call.
    private func forEachLive(withPrefix prefix: [UInt8],
                             _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void) {
        let t = now()
        for s in shards {
            s.lock.lock()
            defer { s.lock.unlock() }
            for i in 0..<s.table.capacity {
                guard let raw = s.table.raw(at: i) else { continue }
                let e = Entry(raw)
                if e.expiry != 0 && e.isExpired(now: t) { continue }
                let key = e.key
                guard key.count >= prefix.count, prefix.indices.allSatisfy({ key[$0] == prefix[$0] }) else { continue }
                body(key, e.value)
            }
        }
    }
}
