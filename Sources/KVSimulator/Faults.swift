extension Simulation {
    /// Arms the first fault (faults start at random intervals while the workload runs).
    func startFaults() {
        let kinds: FaultSet = [.partitions, .crashes, .slowNodes, .falseSuspicion]
        if let spare {
            schedule(.join(spare), after: faultRNG.tick(1...(4 * options.faultInterval)))
        }
        guard !options.faults.intersection(kinds).isEmpty else { return }
        schedule(.faultTick, after: faultRNG.tick(1...(2 * options.faultInterval)))
    }

    /// Starts one crash, partition or slowdown, then arms the next tick.
    func injectFault() {
        guard faultsActive else { return }
        var choices: [FaultSet] = []
        if options.faults.contains(.crashes) { choices.append(.crashes) }
        if options.faults.contains(.partitions) { choices.append(.partitions) }
        if options.faults.contains(.slowNodes) { choices.append(.slowNodes) }
        if options.faults.contains(.falseSuspicion) { choices.append(.falseSuspicion) }
        let pick = choices[faultRNG.int(0...(choices.count - 1))]
        let duration = faultRNG.tick(options.faultDuration)
        let target = faultRNG.int(0...(options.nodes - 1))
        switch pick {
        case .crashes:
            // At most two nodes down at once.
            let downMembers = ids.indices.filter { isMember($0) && nodes[$0] == nil }.count
            if nodes[target] != nil && downMembers < 2 {
                crash(target)
                schedule(.restart(target), after: duration)
            }
        case .partitions:
            if side == nil {
                var s = (0..<options.nodes).map { _ in faultRNG.int(0...1) }
                if Set(s).count == 1 { s[target] = 1 - s[target] }
                side = s
                stats.partitions += 1
                for i in ids.indices { notifyPeers(about: i) }
                schedule(.partitionHeal, after: duration)
            }
        case .falseSuspicion:
            // Everyone else suspects `target` until the detector re-checks the truth.
            stats.suspicions += 1
            for j in ids.indices where j != target {
                drive(j, .peerDown(ids[target]))
                schedule(.detect(node: j, about: target), after: duration)
            }
        default:
            slowExtra[target] = faultRNG.tick(options.slowDelay)
            stats.slowdowns += 1
            schedule(.slowEnd(target), after: duration)
        }
        schedule(.faultTick, after: faultRNG.tick(1...(2 * options.faultInterval)))
    }

    /// Stops all faults: heals, restarts crashed nodes, ends slowness and loss, and tells every
    /// node that every peer is up.
    func stopFaults() {
        faultsActive = false
        side = nil
        for i in ids.indices {
            slowExtra[i] = 0
            if nodes[i] == nil { boot(i) }
        }
        if let spare { join(spare, gradually: false) }
        for i in ids.indices where views[i] != membership {
            views[i] = membership
            drive(i, .membershipChanged(membership))
        }
        for i in ids.indices {
            for j in ids.indices where j != i { drive(i, .peerUp(ids[j])) }
        }
    }
}
