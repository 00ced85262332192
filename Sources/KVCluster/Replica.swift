import KVVersioning

extension ClusterNode {
    /// True when a hinted write for `owner` must be refused because the hint store is full.
    func hintStoreFull(owner: NodeID?, key: [UInt8]) -> Bool {
        guard let owner else { return false }
        return store.hint(owner: owner, key: key) == nil && store.hintCount >= config.hintCapacity
    }

    /// Records (or refreshes) the hint for a hinted write; the window keeps running from the first.
    mutating func recordHint(owner: NodeID?, key: [UInt8], now: Tick) {
        guard let owner else { return }
        let createdAt = store.hint(owner: owner, key: key)?.createdAt ?? now
        store.setHint(Hint(owner: owner, key: key, sequence: nextRequestID(), createdAt: createdAt))
    }

    /// Stamps a write on this replica (the coordinating replica) and answers with the stored set.
    mutating func replicaStamp(
        request: RequestID, coordinator: NodeID, key: [UInt8], value: [UInt8], isTombstone: Bool,
        context: VersionVector, supersedeLocal: Bool, timestamp: UInt64, hintFor: NodeID?, now: Tick,
        out: inout Output
    ) {
        if hintStoreFull(owner: hintFor, key: key) {
            out.send(.stamped(request: request, object: nil, dot: nil), to: coordinator, self: id)
            return
        }
        let origin = StampOrigin(coordinator: coordinator, request: request)
        var object = store.object(for: key) ?? StoredObject()
        if let seen = object.recentStamps.first(where: { $0.origin == origin }) {
            // A duplicated request: answer again, stamp nothing.
            out.send(.stamped(request: request, object: object.siblings, dot: seen.dot), to: coordinator, self: id)
            return
        }
        let epoch: UInt32
        if let e = object.stampEpoch {
            epoch = e
        } else if config.plantedBug == .reuseActor {
            epoch = 1
            object.stampEpoch = epoch
        } else {
            epoch = store.nextEpoch()
            object.stampEpoch = epoch
        }
        let clientContext = supersedeLocal ? context.union(object.siblings.context) : context
        let dot = object.siblings.update(clientContext: clientContext, actor: Actor(node: id, epoch: epoch),
                                         value: value, isTombstone: isTombstone, timestamp: timestamp)
        if config.lastWriteWins { object.siblings = object.siblings.resolvedLastWriteWins() }
        object.recentStamps.append(.init(origin: origin, dot: dot))
        if object.recentStamps.count > config.rememberedStampsPerKey {
            object.recentStamps.removeFirst(object.recentStamps.count - config.rememberedStampsPerKey)
        }
        store.setObject(object, for: key)
        recordHint(owner: hintFor, key: key, now: now)
        if hintFor == nil && !placement.primaries(for: key).contains(id) { noteStray(key) }
        out.send(.stamped(request: request, object: object.siblings, dot: dot), to: coordinator, self: id)
    }

    /// Drops the tombstones of a delete every true replica confirmed, if nothing newer arrived since.
    mutating func replicaReap(key: [UInt8], context: VersionVector) {
        guard var object = store.object(for: key), object.siblings.isDeleted,
              !object.siblings.siblings.isEmpty, object.siblings.context == context else { return }
        object.siblings.removeTombstones()
        store.setObject(object, for: key)
    }

    /// Merges a replicated, repaired or handed-off set into the local one. Returns false when refused.
    mutating func replicaMerge(key: [UInt8], object incoming: SiblingSet, hintFor: NodeID?, now: Tick,
                               isReplicate: Bool) -> Bool {
        if hintStoreFull(owner: hintFor, key: key) { return false }
        var object = store.object(for: key) ?? StoredObject()
        let before = object.siblings
        if isReplicate && config.plantedBug == .overwriteOnReplicate {
            object.siblings = incoming
        } else {
            object.siblings.sync(incoming)
        }
        if config.lastWriteWins { object.siblings = object.siblings.resolvedLastWriteWins() }
        if object.siblings != before || store.object(for: key) == nil { store.setObject(object, for: key) }
        recordHint(owner: hintFor, key: key, now: now)
        if hintFor == nil && !placement.primaries(for: key).contains(id) { noteStray(key) }
        return true
    }
}
