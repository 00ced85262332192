import KVAntiEntropy
import KVCluster
import KVPartitioning
import KVVersioning
import Testing

/// Anti-entropy over many seeds: a random cluster (3-6 nodes, N=3) whose replicas diverged on every
/// side (superseding writes, blind writes that fork siblings, deletes, keys only some replicas have),
/// repaired by anti-entropy alone while its frames are lost, duplicated and reordered. Per seed the
/// replicas must end identical and equal to the merge of everything any of them held (nothing lost,
/// nothing invented); without loss, the bytes exchanged must stay a small multiple of the differing data.
@Suite struct AntiEntropySimulationTests {
    static let seeds = 2_000

    struct Figures {
        var seeds = 0, divergentKeys = 0, rounds = 0, maxRounds = 0, dropped = 0, duplicated = 0
        var exchanged = 0, differing = 0, dataset = 0, aborted = 0
    }

    /// Runs one seed; returns a failure description, or nil.
    static func run(seed: UInt64, figures: inout Figures) -> String? {
        var rng = Rng(seed: seed)
        let count = 3 + rng.below(4)
        var config = Replicas.unlimited
        config.sessionTimeout = 50
        config.maxBucketsPerSession = [4, 64, 1 << 20][rng.below(3)]
        let h = Replicas(count: count, n: 3, shape: MerkleShape(fanoutBits: 2, depth: 3)!, config: config)
        let keys = (0..<(40 + rng.below(80))).map(h.key)
        for k in keys where rng.below(10) > 0 {
            let s = h.write(h.placement.primaries(for: k)[0], k, Array("base".utf8))
            h.writeEverywhere(k, s)
        }
        // Divergence on every side: each write lands on one replica only (a partition with hints off).
        for step in 0..<(5 + rng.below(60)) {
            let k = keys[rng.below(keys.count)]
            let node = h.placement.primaries(for: k)[rng.below(3)]
            switch rng.below(5) {
            case 0: h.write(node, k, [], tombstone: true)
            case 1: h.write(node, k, Array("blind-\(step)".utf8), context: VersionVector())
            default: h.write(node, k, Array("w-\(step)".utf8))
            }
        }
        let expected = h.mergedAcrossReplicas(keys)
        figures.dataset += expected.values.reduce(0) { total, set in total + set.siblings.reduce(0) { $0 + $1.value.count } }
        figures.divergentKeys += h.divergentKeys(keys).count
        let loss = [0.0, 0.0, 0.01, 0.05, 0.1][rng.below(5)]
        // Rounds of KV.REPAIR everywhere; frames delivered in random order, some lost or duplicated;
        // time passes between rounds so sessions stuck on a lost frame time out.
        var round = 0
        while !h.divergentKeys(keys).isEmpty && round < 200 {
            round += 1
            for id in h.ids { h.event(id, .repairAll) }
            var steps = 0
            while !h.queue.isEmpty && steps < 100_000 {
                steps += 1
                let i = rng.below(h.queue.count)
                let (from, to, bytes) = h.queue.remove(at: i)
                h.now += 1
                if Double(rng.below(1000)) < loss * 1000 {
                    figures.dropped += 1
                    continue
                }
                if Double(rng.below(1000)) < loss * 500 {
                    figures.duplicated += 1
                    h.queue.append((from, to, bytes))
                }
                h.event(to, .received(from: from, bytes: bytes))
                if steps % 16 == 0 { for id in h.ids where h.nodes[id]!.queuedSessionCount > 0 { h.event(id, .tick) } }
            }
            h.now += 100
            for id in h.ids { h.event(id, .tick) }
        }
        figures.seeds += 1
        figures.rounds += round
        figures.maxRounds = max(figures.maxRounds, round)
        figures.aborted += h.reports.filter { if case .aborted = $0.outcome { true } else { false } }.count
        let divergent = h.divergentKeys(keys)
        if !divergent.isEmpty { return "seed \(seed): \(divergent.count) keys still divergent after \(round) rounds (loss \(loss))" }
        for k in keys {
            for id in h.placement.primaries(for: k) where (h.set(id, k) ?? SiblingSet()) != expected[k]! {
                return "seed \(seed): \(id) holds \(String(describing: h.set(id, k))) for \(k), expected the merge \(expected[k]!)"
            }
        }
        if loss == 0 {
            let repaired = h.initiatorReports
            let exchanged = repaired.reduce(0) { $0 + $1.bytesExchanged }
            let differing = repaired.reduce(0) { $0 + $1.differingObjectBytes }
            figures.exchanged += exchanged
            figures.differing += differing
        }
        return nil
    }

    @Test func thousandsOfSeedsConvergeWithNothingLost() {
        var figures = Figures()
        var failures: [String] = []
        for seed in 0..<UInt64(Self.seeds) {
            if let failure = Self.run(seed: seed, figures: &figures) { failures.append(failure) }
            if failures.count >= 3 { break }
        }
        print("anti-entropy simulation: \(figures.seeds) seeds, \(failures.count) failing; \(figures.divergentKeys) divergent keys "
              + "repaired; rounds mean \(Double(figures.rounds) / Double(max(figures.seeds, 1))) max \(figures.maxRounds); "
              + "frames dropped \(figures.dropped), duplicated \(figures.duplicated); sessions aborted \(figures.aborted); "
              + "loss-free seeds exchanged \(figures.exchanged) B for \(figures.differing) B of differing objects")
        #expect(failures.isEmpty, "\(failures)")
        #expect(figures.seeds == Self.seeds)
        #expect(figures.exchanged < 20 * figures.differing + 4096 * figures.seeds)
    }
}
