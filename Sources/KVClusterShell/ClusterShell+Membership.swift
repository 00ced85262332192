import KVCluster
import KVMembership
import NIOCore

/// SWIM failure detection in the shell (membership itself stays the static seed list for now): probes,
/// indirect probes, suspicion and refutation travel as `PeerMessage.membership` frames. A member SWIM
/// declares `down` is reported to the `ClusterNode` as down even while its TCP connections stay open
/// (a paused or wedged process), and as up again once SWIM and the connection both say so.
extension ClusterShell {
    func startMembership(_ members: [ClusterMember]) {
        for m in members {
            addressOf[m.id] = m.clientAddress
            idAt[m.clientAddress] = m.id
        }
        let persisted = store.meta("swim-incarnation").map { b in b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) } } ?? 0
        var rng = SystemRandomNumberGenerator()
        swim = MembershipInstance(id: nodeID, address: discovery.selfMember.clientAddress, incarnation: persisted + 1,
                                  seed: rng.next(), config: membershipConfig)
        runMembership(.start)
        for target in joinTargets { link?.connect(clientAddress: target) }
        runMembership(.join(seeds: members.filter { $0.id != nodeID }.map(\.clientAddress) + joinTargets))
    }

    func runMembership(_ event: MembershipEvent) {
        guard swim != nil, !stopped else { return }
        let effects = swim!.handle(event, now: clockNow())
        var sent = false
        for effect in effects {
            switch effect {
            case let .send(to, message):
                let bytes = MembershipCoding.encode(message)
                if let id = idAt[to], link?.send(.membership(bytes: bytes), to: id) == true {
                    sent = true
                } else {
                    queueMembership(bytes, to: to)
                }
            case let .setTimer(timer, after):
                swimTimers.removeValue(forKey: timer)?.cancel()
                swimTimers[timer] = loop.scheduleTask(in: .milliseconds(Int64(after))) { [weak self] in
                    self?.swimTimers[timer] = nil
                    self?.runMembership(.timer(timer))
                }
            case let .cancelTimer(timer):
                swimTimers.removeValue(forKey: timer)?.cancel()
            case let .memberChanged(change):
                memberChanged(change)
            case let .persistIncarnation(incarnation):
                store.setMeta("swim-incarnation", (0..<8).reversed().map { UInt8(truncatingIfNeeded: incarnation >> (8 * $0)) })
            }
        }
        if sent { link?.flush() }
    }

    func membershipFrame(_ bytes: [UInt8], from id: NodeID) {
        guard let address = addressOf[id] else { return }
        lastHeard[id] = clockNow()
        do {
            runMembership(.message(from: address, try MembershipCoding.decode(bytes)))
        } catch {
            stats.droppedPeerMessages += 1
        }
    }

    private func memberChanged(_ change: MembershipChange) {
        let m = change.member
        guard m.id != nodeID else {
            selfStatusChanged(m.status)
            return
        }
        if m.status != .removed { learnAddress(m.id, m.address, dial: true) }
        swimStatus[m.id] = m.status
        logMembership("member \(m.id) \(change.previous.map { "\($0.status)" } ?? "new") -> \(m.status) (incarnation \(m.incarnation)\(change.isRestart ? ", restarted" : ""))")
        switch m.status {
        case .suspect: stats.suspicions += 1
        case .down: stats.downs += 1
        default: break
        }
        refreshBelief(m.id)
        ringMemberChanged(m)
    }

    /// Connected, and neither declared down nor removed by SWIM: what the `ClusterNode` is told and
    /// `CLUSTER.MEMBERS` shows as up.
    func isReachable(_ id: NodeID) -> Bool {
        let status = swimStatus[id]
        return up.contains(id) && status != .down && status != .removed
    }

    /// Tells the `ClusterNode` whether `id` is up: connected, and not declared down by SWIM.
    func refreshBelief(_ id: NodeID) {
        let upNow = isReachable(id)
        guard believedUp.contains(id) != upNow, node != nil else { return }
        if upNow { believedUp.insert(id); run(.peerUp(id)) } else { believedUp.remove(id); run(.peerDown(id)) }
    }

    /// SWIM's status of a member (nil before it has an opinion), and ms since its last membership frame.
    public func membershipStatus(of id: NodeID) -> (status: MemberStatus?, heardAgo: Tick?) {
        (swimStatus[id], lastHeard[id].map { clockNow() &- $0 })
    }
}
