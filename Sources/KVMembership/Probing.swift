/// The probe under way this protocol period.
struct ActiveProbe {
    var seq: UInt64
    var targetID: String
    /// The target's incarnation when probed: a failure says nothing about a newer life.
    var incarnation: UInt64
    var indirect = false
    var expectedNacks = 0
    var nacks = 0
}

/// SWIM failure detection with Lifeguard's local health: one probe per period (suspects first, then
/// a fixed random cycle), k indirect probes after a missed ack, nacks from helpers.
extension MembershipInstance {
    mutating func protocolPeriod(now: UInt64, out: inout [MembershipEffect]) {
        if let p = probe {
            // The period ended before the probe's own timers fired: this node's timers run late
            // (pause, overload). Lifeguard: blame local health, not the target.
            probe = nil
            out.append(.cancelTimer(.probeTimeout(p.seq)))
            out.append(.cancelTimer(.indirectTimeout(p.seq)))
            adjustHealth(1)
        }
        if let after = config.autoRemoveDownAfter {
            for id in sortedIDs {
                guard var m = records[id]?.member, m.status == .down,
                      let since = records[id]?.downSince, now >= since + after else { continue }
                m.status = .removed
                apply(MemberUpdate(member: m, source: me.id), now: now, out: &out)
            }
        }
        guard let targetID = nextProbeTarget(), let target = records[targetID]?.member else { return }
        sequence += 1
        probe = ActiveProbe(seq: sequence, targetID: targetID, incarnation: target.incarnation)
        // Buddy system: a suspected target hears about its suspicion first, so it can refute.
        send(.ping(seq: sequence), to: target.address, buddy: target.status == .suspect ? targetID : nil, out: &out)
        out.append(.setTimer(.probeTimeout(sequence), after: scaled(config.probeTimeout)))
    }

    /// A suspect this node has not confirmed yet comes first (fast confirmation or refutation);
    /// otherwise the next member of a fixed random cycle.
    private mutating func nextProbeTarget() -> String? {
        let unconfirmed = sortedIDs.filter {
            guard let r = records[$0], r.member.status == .suspect, let s = r.suspicion else { return false }
            return !s.confirmers.contains(me.id)
        }
        if !unconfirmed.isEmpty { return unconfirmed[rng.below(unconfirmed.count)] }
        let live = liveIDs()
        guard !live.isEmpty else { return nil }
        // The same random cycle round after round (a fresh shuffle only when the live set changes):
        // every member is probed by every node once per n − 1 periods, never up to 2(n − 1) − 1 apart.
        if probeOrder.sorted() != live {
            probeOrder = live
            rng.shuffle(&probeOrder)
            probeCursor = 0
        }
        let id = probeOrder[probeCursor % probeOrder.count]
        probeCursor += 1
        return id
    }

    mutating func probeTimedOut(_ seq: UInt64, now: UInt64, out: inout [MembershipEffect]) {
        guard var p = probe, p.seq == seq, !p.indirect, let target = records[p.targetID]?.member else { return }
        let helpers = rng.sample(liveIDs().filter { $0 != p.targetID && records[$0]!.member.status == .up },
                                 count: config.indirectProbes)
        for h in helpers {
            send(.pingRequest(seq: seq, targetID: target.id, targetAddress: target.address),
                 to: records[h]!.member.address, out: &out)
        }
        p.indirect = true
        p.expectedNacks = helpers.count
        probe = p
        let window = scaled(config.probeInterval) - scaled(config.probeTimeout)
        out.append(.setTimer(.indirectTimeout(seq), after: max(1, window * 9 / 10)))
    }

    mutating func indirectTimedOut(_ seq: UInt64, now: UInt64, out: inout [MembershipEffect]) {
        guard let p = probe, p.seq == seq else { return }
        concludeFailed(p, now: now, out: &out)
    }

    /// No ack, direct or relayed: the target is suspected. Lifeguard charges this node's health for
    /// every helper that did not even send a nack (or once when it had no helper): nacks prove that
    /// this node's own links work, so the failure is then the target's.
    private mutating func concludeFailed(_ p: ActiveProbe, now: UInt64, out: inout [MembershipEffect]) {
        probe = nil
        out.append(.cancelTimer(.probeTimeout(p.seq)))
        out.append(.cancelTimer(.indirectTimeout(p.seq)))
        adjustHealth(p.expectedNacks > 0 ? max(0, p.expectedNacks - p.nacks) : 1)
        // The target may have restarted (or refuted) while the probe ran: only suspect that life.
        if records[p.targetID]?.member.incarnation == p.incarnation { suspect(p.targetID, now: now, out: &out) }
    }

    mutating func acked(_ seq: UInt64, out: inout [MembershipEffect]) {
        if let p = probe, p.seq == seq {
            probe = nil
            out.append(.cancelTimer(.probeTimeout(seq)))
            out.append(.cancelTimer(.indirectTimeout(seq)))
            adjustHealth(-1)
        } else if let h = helping.removeValue(forKey: seq) {
            out.append(.cancelTimer(.helperTimeout(seq)))
            send(.ack(seq: h.seq), to: h.requester, out: &out)
        }
    }

    /// Probes `target` for a requester; relays its ack, or sends a nack if it stays silent.
    mutating func helpProbe(seq: UInt64, requester: String, targetID: String, targetAddress: String,
                            out: inout [MembershipEffect]) {
        guard targetID != me.id else { return send(.ack(seq: seq), to: requester, out: &out) }
        guard helping.count < 1_024 else { return }
        sequence += 1
        helping[sequence] = (requester, seq)
        let buddy = records[targetID]?.member.status == .suspect ? targetID : nil
        send(.ping(seq: sequence), to: targetAddress, buddy: buddy, out: &out)
        out.append(.setTimer(.helperTimeout(sequence), after: max(1, config.probeTimeout * 8 / 10)))
    }
}
