extension ClusterNode {
    /// The periodic handoff tick: expire hints past the window, deliver the rest to owners believed up.
    /// A delivery not acknowledged yet is sent again only after `ClusterConfig.retryDelay`, and at most
    /// `transferWindow` deliveries wait for acknowledgement at once, so an overloaded owner is not flooded.
    mutating func handoffTick(now: Tick, out: inout Output) {
        var sent = 0
        let hints = store.allHints()
        // Only deliveries to owners believed up count against the window: a down owner's unacknowledged
        // ones must not hold back hints for the others.
        var outstanding = 0
        for hint in hints where handoffsInFlight[hint.sequence] != nil && believesUp(hint.owner) { outstanding += 1 }
        var held: [UInt64: (sentAt: Tick, attempts: Int)] = [:]
        for hint in hints {
            if now >= hint.createdAt && now - hint.createdAt > config.hintWindow {
                store.removeHint(owner: hint.owner, key: hint.key)
                dropIfOnlyHinted(hint.key)
                continue
            }
            let previous = handoffsInFlight[hint.sequence]
            if let previous { held[hint.sequence] = previous }
            guard sent < config.handoffBatch, believesUp(hint.owner) else { continue }
            if let previous {
                guard now >= previous.sentAt &+ config.retryDelay(attempts: previous.attempts) else { continue }
            } else {
                guard outstanding < config.transferWindow else { continue }
            }
            if sendHandoff(hint, out: &out) {
                held[hint.sequence] = (now, (previous?.attempts ?? 0) + 1)
                if previous == nil { outstanding += 1 } else { handoffRetries += 1 }
                sent += 1
            }
        }
        handoffsInFlight = held
    }

    /// Delivers every hint held for `owner` (it just came back), whatever was sent before.
    mutating func deliverHints(to owner: NodeID, now: Tick, out: inout Output) {
        var sent = 0
        for hint in store.allHints() where hint.owner == owner && sent < config.handoffBatch {
            if sendHandoff(hint, out: &out) {
                handoffsInFlight[hint.sequence] = (now, 1)
                sent += 1
            }
        }
    }

    private func sendHandoff(_ hint: Hint, out: inout Output) -> Bool {
        guard let object = store.object(for: hint.key) else { return false }
        out.send(.handoff(hint: hint.sequence, key: hint.key, object: object.siblings), to: hint.owner, self: id)
        return true
    }

    /// The owner stored a hinted copy: drop the hint if no newer write came since, and the copy once
    /// this node holds no hint for the key and is not one of its true replicas.
    mutating func handoffAcknowledged(hint sequence: UInt64, key: [UInt8], by owner: NodeID) {
        handoffsInFlight[sequence] = nil
        guard let hint = store.hint(owner: owner, key: key), hint.sequence == sequence else { return }
        store.removeHint(owner: owner, key: key)
        dropIfOnlyHinted(key)
    }

    /// Keeps the copy while a rebalancing pass still waits for new owners to confirm it (the pass drops
    /// it once they did).
    private func dropIfOnlyHinted(_ key: [UInt8]) {
        if !store.hasHints(for: key) && !placement.primaries(for: key).contains(id)
            && rebalance?.awaitingDrop[key] == nil {
            store.removeObject(for: key)
        }
    }
}
