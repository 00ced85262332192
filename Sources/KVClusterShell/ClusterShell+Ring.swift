import KVCluster
import KVMembership
import KVPartitioning

/// Where this node stands in a graceful `CLUSTER.LEAVE`.
enum LeaveProgress: Equatable, CustomStringConvertible {
    /// A member (or not leaving).
    case none
    /// Off the ring, streaming its keys (and handing off its hints) to their new owners.
    case handingOver(since: Tick)
    /// Everything was handed over and the node announced itself removed; it refuses client requests.
    case left

    var description: String {
        switch self {
        case .none: "none"
        case .handingOver: "handing_over"
        case .left: "left"
        }
    }
}

/// Dynamic membership: the ring follows what SWIM learns. The ring starts as the seed list (or the ring
/// an earlier run persisted); a member SWIM reports `up`, `suspect` or `down` that is not on the ring is
/// added (a join), a member reported `leaving` or `removed` is taken off (a graceful leave, an operator's
/// removal). `down` never takes a member off: a temporary failure moves no data (hints cover it).
/// Every change is persisted, handed to the `ClusterNode` (which streams the keys whose owners changed
/// in the background) and rebuilds the anti-entropy trees for the new ranges.
extension ClusterShell {
    /// Statuses whose members own data.
    static func placesData(_ status: MemberStatus) -> Bool { status == .up || status == .suspect || status == .down }

    /// The ring's members, then every other member this node knows an address for (joining, leaving,
    /// removed), by id.
    var ringAndKnownMembers: [ClusterMember] {
        var list = ring
        for (id, address) in addressOf.sorted(by: { $0.key < $1.key }) where !ring.contains(where: { $0.id == id }) {
            list.append(ClusterMember(id: id, clientAddress: address))
        }
        return list
    }

    /// Remembers where a member listens (and dials it when `dial`).
    func learnAddress(_ id: NodeID, _ address: String, dial: Bool) {
        guard id != nodeID else { return }
        if addressOf[id] != address {
            if let old = addressOf[id], idAt[old] == id { idAt[old] = nil }
            addressOf[id] = address
            idAt[address] = id
        }
        if dial { link?.connect(clientAddress: address) }
    }

    /// An inbound peer finished its handshake: learn its address and dial it back (the transport sends
    /// only on connections this node opened).
    public func peerIntroduced(_ id: NodeID, clientAddress: String) {
        guard id != nodeID, addressOf[id] != clientAddress else { return }
        learnAddress(id, clientAddress, dial: node != nil)
    }

    /// Keeps a membership frame for a peer that is not connected yet (at most 16 per address; the
    /// protocol copes with loss, this only spares a just-joined node a lost sync reply).
    func queueMembership(_ bytes: [UInt8], to address: String) {
        guard idAt[address] != nil || joinTargets.contains(address) else { return }
        var queued = membershipOutbox[address] ?? []
        if queued.count >= 16 { queued.removeFirst() }
        queued.append(bytes)
        membershipOutbox[address] = queued
    }

    func flushMembershipOutbox(to id: NodeID, address: String) {
        guard let queued = membershipOutbox.removeValue(forKey: address), !queued.isEmpty else { return }
        for bytes in queued { link?.send(.membership(bytes: bytes), to: id) }
        link?.flush()
    }

    /// SWIM changed its view of another member: add it to or take it off the ring.
    func ringMemberChanged(_ m: Member) {
        guard node != nil else { return }
        var next = pendingRing ?? ring
        let onRing = next.contains { $0.id == m.id }
        if Self.placesData(m.status) && !onRing {
            next.append(ClusterMember(id: m.id, clientAddress: m.address))
        } else if (m.status == .leaving || m.status == .removed) && onRing {
            next.removeAll { $0.id == m.id }
        } else {
            return
        }
        scheduleRing(next)
    }

    /// SWIM changed this node's own status (`leaving` after `CLUSTER.LEAVE`, `removed` once handed over).
    func selfStatusChanged(_ status: MemberStatus) {
        switch status {
        case .leaving:
            guard leave == .none else { return }
            leave = .handingOver(since: clockNow())
            logMembership("leaving the cluster: handing this node's keys over to their new owners")
            scheduleRing((pendingRing ?? ring).filter { $0.id != nodeID })
        case .removed:
            leave = .left
            logMembership("left the cluster: every key and hint was handed over; refusing client requests")
        default:
            break
        }
    }

    private func scheduleRing(_ next: [ClusterMember]) {
        let first = pendingRing == nil
        pendingRing = next
        if first { loop.execute { [weak self] in self?.applyPendingRing() } }
    }

    func applyPendingRing() {
        guard let next = pendingRing else { return }
        pendingRing = nil
        let old = Set(ring.map(\.id))
        let new = Set(next.map(\.id))
        guard !stopped, node != nil, new != old, !next.isEmpty else { return }
        let membership: Membership
        do {
            membership = try SeedDiscovery.membership(next)
        } catch {
            logMembership("cannot build a ring from \(next.map(\.id)): \(error)")
            return
        }
        let appliedFrom = clockNow()
        ring = next
        store.setMeta("ring", SeedDiscovery.encode(next))
        stats.ringChanges += 1
        logMembership("ring changed: \(next.map(\.id).sorted().joined(separator: ",")) (added \(new.subtracting(old).sorted()), "
                      + "removed \(old.subtracting(new).sorted())); rebalancing in the background")
        if rebalanceStartedAt == nil { rebalanceStartedAt = clockNow() }
        run(.membershipChanged(membership))
        let nodeDone = clockNow()
        // A new ClusterNode member is believed up: mirror that, then correct it from the connections.
        for id in new.subtracting(old) where id != nodeID {
            believedUp.insert(id)
            refreshBelief(id)
        }
        for id in old.subtracting(new) { believedUp.remove(id) }
        if let placement = node?.placement { ringChangedForAntiEntropy(placement) }
        logMembership("ring change applied in \(clockNow() &- appliedFrom) ms (node \(nodeDone &- appliedFrom) ms; \(store.objectCount) keys here)")
    }

    /// Every 100 ms: times rebalancing, and finishes a leave once everything was handed over.
    func progressTick() {
        guard let node, pendingRing == nil else { return }
        if let started = rebalanceStartedAt, !node.isRebalancing {
            let took = clockNow() &- started
            stats.lastRebalanceMillis = took
            stats.rebalanceMillis += took
            rebalanceStartedAt = nil
            logMembership("rebalancing finished in \(took) ms (\(node.rebalanceStats.keysSent) keys sent, "
                          + "\(node.rebalanceStats.keysReceived) received, \(node.rebalanceStats.keysDropped) dropped so far)")
        }
        if case .handingOver = leave, !node.isRebalancing, store.hintCount == 0 {
            runMembership(.operatorRemove(nodeID))
        }
    }

    // MARK: Operator views and commands

    /// What this node moved for ring changes so far, whether a pass runs now, and the ring's members.
    public var rebalanceStats: RebalanceStats { node?.rebalanceStats ?? RebalanceStats() }
    public var isRebalancing: Bool { node?.isRebalancing ?? false }
    /// The running pass in one line (keys walked, transfers in flight, keys awaiting a drop).
    public var rebalanceSummary: String { node?.rebalanceSummary ?? "idle" }
    public var ringMemberIDs: [NodeID] { ring.map(\.id) }
    /// `CLUSTER.LEAVE` progress: `none`, `handing_over` or `left`.
    public var leaveState: String { leave.description }

    /// `CLUSTER.JOIN host:port`: joins the cluster the member at `address` belongs to. Nil when started,
    /// else why not.
    public func join(_ address: String) -> String? {
        guard node != nil, swim != nil else { return "membership not known yet" }
        guard leave == .none else { return "this node is leaving the cluster" }
        guard address != discovery.selfMember.clientAddress else { return "\(address) is this node's own address" }
        if !joinTargets.contains(address) { joinTargets.append(address) }
        link?.connect(clientAddress: address)
        runMembership(.join(seeds: [address]))
        return nil
    }

    /// `CLUSTER.LEAVE`: takes this node off the ring, hands its keys over, then announces it left.
    public func leaveCluster() -> String? {
        guard node != nil, swim != nil else { return "membership not known yet" }
        guard leave == .none else { return "already \(leave == .left ? "left" : "leaving")" }
        guard ring.contains(where: { $0.id != nodeID }) else { return "this node is the cluster's only member" }
        runMembership(.leave)
        return nil
    }

    /// `CLUSTER.REMOVE node-id`: declares a member gone for good; its replicas are re-created elsewhere.
    public func removeMember(_ id: NodeID) -> String? {
        guard node != nil, swim != nil else { return "membership not known yet" }
        guard id != nodeID else { return "to take this node out, use CLUSTER.LEAVE" }
        guard isMember(id) else { return "unknown member '\(id)'" }
        guard swimStatus[id] != .removed else { return "member '\(id)' is already removed" }
        runMembership(.operatorRemove(id))
        return nil
    }
}
