import KVAntiEntropy
import KVCluster
import KVPartitioning
import NIOCore

/// Merkle-tree anti-entropy in the shell: the store is wrapped so every write updates the trees, a
/// one-second tick drives the sessions (periodic rounds, queued `KV.REPAIR` work, timeouts), frames
/// travel as `PeerMessage.antiEntropy`, and received sets are merged through the node's read-repair
/// path so every merge rule stays in `ClusterNode`.
extension ClusterShell {
    /// Wraps the store with the anti-entropy index (when enabled) and starts the tick; returns the store
    /// the `ClusterNode` must use.
    func startAntiEntropy(_ membership: Membership) -> any LocalStore {
        guard let aeConfig = antiEntropyConfig else { return store }
        let placement = Placement(membership: membership, n: config.n, tokensPerNode: config.tokensPerNode)
        let index = AntiEntropyIndex(ranges: ReplicaRanges(placement: placement, node: nodeID), shape: .standard)
        let wrapped = AntiEntropyStore(wrapping: store, index: index)
        wrapped.indexExisting(keys: store.allKeys())
        antiEntropyStore = wrapped
        antiEntropy = AntiEntropyNode(id: nodeID, index: index, source: wrapped, config: aeConfig,
                                      sessionIDBase: store.currentIncarnation &+ 1)
        for peer in up { runAntiEntropy(.peerUp(peer)) }
        antiEntropyTask = loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { [weak self] _ in
            self?.runAntiEntropy(.tick)
        }
        return wrapped
    }

    /// `KV.REPAIR`: a session for every range with every other replica; `done` gets what they did.
    public func repairAll(on caller: EventLoop, _ done: @escaping @Sendable (Result<AntiEntropyTotals, RepairRefused>) -> Void) {
        loop.execute {
            guard self.antiEntropy != nil else {
                let why = self.antiEntropyConfig == nil ? "anti-entropy is off on this node" : "membership not known yet"
                caller.execute { done(.failure(RepairRefused(reason: why))) }
                return
            }
            if self.repairWaiters.isEmpty { self.repairBaseline = self.antiEntropy!.totals }
            self.repairWaiters.append { totals in caller.execute { done(.success(totals)) } }
            self.runAntiEntropy(.repairAll)
            self.runAntiEntropy(.tick)
        }
    }

    /// Totals of every anti-entropy session this node took part in.
    public var antiEntropyTotals: AntiEntropyTotals? { antiEntropy?.totals }

    func runAntiEntropy(_ event: AntiEntropyEvent) {
        guard antiEntropy != nil else { return }
        executeAntiEntropy(antiEntropy!.handle(event, now: clockNow()))
    }

    /// The ring changed: the trees are rebuilt for this node's new ranges (one pass over the keys) and
    /// sessions on the old ranges end.
    func ringChangedForAntiEntropy(_ placement: Placement) {
        guard antiEntropy != nil, let wrapped = antiEntropyStore else { return }
        let index = AntiEntropyIndex(ranges: ReplicaRanges(placement: placement, node: nodeID), shape: .standard)
        wrapped.beginReindex(index)
        executeAntiEntropy(antiEntropy!.replaceIndex(index, now: clockNow()))
        continueReindex(wrapped)
    }

    /// Fills the new trees 4096 keys per loop turn (a few ms each), letting requests run in between.
    private func continueReindex(_ wrapped: AntiEntropyStore) {
        guard !stopped, !wrapped.continueReindex(limit: 4096) else { return }
        // On the loop already (the ring change and each step run there): the isolated view takes a closure
        // that captures the non-Sendable store without a Sendable warning or a runtime hop.
        loop.assumeIsolated().execute { [weak self] in self?.continueReindex(wrapped) }
    }

    private func executeAntiEntropy(_ effects: [AntiEntropyEffect]) {
        var sent = false
        for effect in effects {
            switch effect {
            case let .send(to, bytes):
                if link?.send(.antiEntropy(bytes: bytes), to: to) == true { sent = true }
            case let .merge(key, siblings, from):
                run(.peer(from: from, .repair(key: key, object: siblings, hintFor: nil)))
            case .finished:
                break
            case let .rejected(from, error):
                logAntiEntropy("dropped an unreadable anti-entropy frame from \(from): \(error)")
            }
        }
        if sent { link?.flush() }
        if !repairWaiters.isEmpty, antiEntropy!.queuedSessionCount == 0, antiEntropy!.activeSessionCount == 0 {
            finishRepairs()
        }
    }

    func finishRepairs() {
        guard !repairWaiters.isEmpty else { return }
        var delta = antiEntropy?.totals ?? AntiEntropyTotals()
        let base = repairBaseline
        delta.sessions -= base.sessions
        delta.rangesCompared -= base.rangesCompared
        delta.rangesInSync -= base.rangesInSync
        delta.aborted -= base.aborted
        delta.keysSent -= base.keysSent
        delta.keysReceived -= base.keysReceived
        delta.bytesExchanged -= base.bytesExchanged
        delta.differingObjectBytes -= base.differingObjectBytes
        let waiters = repairWaiters
        repairWaiters.removeAll()
        for w in waiters { w(delta) }
    }
}

/// Why `KV.REPAIR` could not run.
public struct RepairRefused: Error, Sendable {
    public var reason: String
}
