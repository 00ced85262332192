import KVCluster
import KVVersioning

/// A broken promise found in a run.
public struct Violation: Sendable, Equatable, CustomStringConvertible {
    /// Which property broke.
    public enum Kind: String, Sendable {
        /// An acknowledged write is neither present nor superseded by a write that saw it.
        case lostWrite = "lost-acknowledged-write"
        /// Two siblings stand side by side although one write had seen the other.
        case falseSiblings = "siblings-not-concurrent"
        /// The same write appears twice among the siblings.
        case duplicateSibling = "duplicate-sibling"
        /// After faults stopped and hints and repair ran, the replicas of a key differ.
        case divergence = "replicas-diverge"
        /// Hints or hinted copies are still held after the drain.
        case undrainedHints = "hints-not-drained"
        /// A value that no client wrote.
        case unknownValue = "unknown-value"
    }

    public var kind: Kind
    public var detail: String

    public var description: String { kind.rawValue + ": " + detail }
}

/// Checks a finished run's history and final replica state against the three properties: no
/// acknowledged write lost, siblings only for concurrent writes, replicas converged.
struct Checker {
    let sim: Simulation

    func check() -> [Violation] {
        var violations: [Violation] = []
        let history = sim.history
        func seen(_ id: Int) -> Set<Int> { id > 0 && id <= history.count ? history[id - 1].seen : [] }

        /// Siblings in one result must be distinct and pairwise concurrent.
        func checkSiblings(_ ids: [Int], _ what: String) {
            if Set(ids).count != ids.count {
                violations.append(Violation(kind: .duplicateSibling, detail: "\(what) returned \(ids)"))
            }
            for a in ids where a <= 0 || a > history.count {
                violations.append(Violation(kind: .unknownValue, detail: "\(what) holds value \(a)"))
            }
            for a in ids { for b in ids where a != b && seen(b).contains(a) {
                violations.append(Violation(kind: .falseSiblings,
                                            detail: "\(what): op \(b) had seen op \(a) yet both are siblings"))
            } }
        }

        for op in history where op.kind == .read && op.outcome == .ok {
            checkSiblings(op.returned, "read op \(op.id) (key \(op.key))")
        }

        let placement = Placement(membership: sim.membership, n: sim.options.cluster.n,
                                  tokensPerNode: sim.options.cluster.tokensPerNode)
        for k in 0..<sim.options.keys {
            let key = Simulation.key(k)
            let primaries = placement.primaries(for: key).map { sim.index[$0]! }
            let sets = primaries.map { sim.stores[$0].object(for: key)?.siblings ?? SiblingSet() }
            for (p, s) in zip(primaries.dropFirst(), sets.dropFirst()) where s != sets[0] {
                violations.append(Violation(kind: .divergence,
                    detail: "key \(k): \(sim.ids[primaries[0]]) has \(sets[0]) but \(sim.ids[p]) has \(s)"))
            }
            for i in sim.ids.indices where !primaries.contains(i) && sim.stores[i].object(for: key) != nil {
                violations.append(Violation(kind: .undrainedHints,
                    detail: "key \(k): fallback \(sim.ids[i]) still holds a copy (rebalancing: \(sim.nodes[i]?.rebalanceSummary ?? "down"), hints for it: \(sim.stores[i].hasHints(for: key)), view current: \(sim.views[i] == sim.membership), members \(sim.membership.nodes.count))"))
            }
            let final = sets[0]
            let ids = ValueID.ids(final)
            checkSiblings(ids, "final state of key \(k)")
            // Present writes, plus deletes (of any outcome) that were stored and whose tombstone is gone
            // but whose dot is in the final context (reaped) — and everything those had seen.
            var alive = ids
            for op in history where op.key == k && op.kind == .delete && !ids.contains(op.id) {
                if let dot = op.dot, final.context.covers(dot) { alive.append(op.id) }
            }
            var accounted = Set(alive)
            for id in alive { accounted.formUnion(seen(id)) }
            // Nothing a standing or reaped write had seen may still stand.
            for id in alive { for p in ids where seen(id).contains(p) {
                violations.append(Violation(kind: .falseSiblings,
                    detail: "key \(k): op \(p) still stands although op \(id) superseded it"))
            } }
            for op in history where op.key == k && op.kind != .read && op.outcome == .ok && !accounted.contains(op.id) {
                violations.append(Violation(kind: .lostWrite,
                    detail: "key \(k): \(op.kind.rawValue) op \(op.id) by client \(op.client) acknowledged at t=\(op.completedAt), final \(final)"))
            }
        }
        for (i, store) in sim.stores.enumerated() where store.hintCount > 0 {
            violations.append(Violation(kind: .undrainedHints, detail: "\(sim.ids[i]) still holds \(store.hintCount) hints"))
        }
        return violations
    }
}
