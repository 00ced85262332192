/// What one event cost, measured from the load series and the nodes' own samples.
public struct EventReport: Sendable, Equatable {
    public var time: Double
    public var action: String
    public var node: String
    public var problem: String
    /// Until every other reachable node saw the change (kill/pause: the node `down`; add-node, leave,
    /// remove-node: the ring at its new size; restart/resume: the node `up`). Nil: never seen.
    public var detectSeconds: Double?
    /// Until the load was healthy again: three intervals in a row without errors and with a p99 at
    /// most twice the p99 before the event (or 1 ms above it, whichever is more). Nil: not within the run.
    public var recoverSeconds: Double?
    /// Errors and timeouts from the event until the next event (or the end of the run).
    public var errors: Int
    /// p99 and p99.9 (µs) in the steady window before the event (up to 10 s, not before the previous
    /// event) and in the 10 s after it.
    public var p99Before: Double?
    public var p999Before: Double?
    public var p99After: Double?
    public var p999After: Double?
    public var throughputBefore: Double
    public var throughputAfter: Double
    /// Membership changes: replica copies moved (keys and value bytes received by new owners, from
    /// the nodes' counters), copies in the cluster before the event, the ideal number to move, and
    /// how long until no node was rebalancing any more.
    public var keysMoved: Int?
    public var bytesMoved: Int?
    public var copiesBefore: Int?
    public var idealKeysMoved: Int?
    public var balancedSeconds: Double?

    /// Moved copies as a fraction of the copies before the event, and the ideal fraction.
    public var movedFraction: Double? { ratio(keysMoved, copiesBefore) }
    public var idealFraction: Double? { ratio(idealKeysMoved, copiesBefore) }

    private func ratio(_ a: Int?, _ b: Int?) -> Double? {
        guard let a, let b, b > 0 else { return nil }
        return Double(a) / Double(b)
    }
}

/// Turns a scenario run's raw material (load series, cluster samples, executed events) into one
/// report per event. Pure: the same inputs give the same reports.
public enum EventAnalysis {
    /// Window lengths, in seconds.
    public static let window = 10.0

    public static func reports(events: [ExecutedEvent], load: LoadSeries, samples: [ClusterSample],
                               runSeconds: Double) -> [EventReport] {
        events.enumerated().map { i, e in
            let next = i + 1 < events.count ? events[i + 1].time : runSeconds
            let previous = i > 0 ? events[i - 1].time : 0
            return report(e, previous: previous, next: max(next, e.time), load: load, samples: samples, runSeconds: runSeconds)
        }
    }

    static func report(_ e: ExecutedEvent, previous: Double, next: Double, load: LoadSeries, samples: [ClusterSample],
                       runSeconds: Double) -> EventReport {
        let step = load.intervalSeconds
        let at = Int((e.time / step).rounded(.down))
        let beforeStart = max(Int((max(previous, e.time - window) / step).rounded(.up)), firstLoaded(load))
        let afterEnd = min(Int(((e.time + window) / step).rounded(.up)), load.operations.count)
        let before = beforeStart < at ? load.windowPercentiles(beforeStart, at) : nil
        let after = at < afterEnd ? load.windowPercentiles(at, afterEnd) : nil
        let rateBefore = rate(load, beforeStart, at)  // reported, not a recovery criterion
        var r = EventReport(time: e.time, action: e.event.action.rawValue, node: e.node ?? "", problem: e.problem,
                            errors: sum(load.errors, at, Int((next / step).rounded(.up))),
                            p99Before: before?.p99, p999Before: before?.p999, p99After: after?.p99, p999After: after?.p999,
                            throughputBefore: rateBefore, throughputAfter: rate(load, at, afterEnd))
        r.recoverSeconds = recovery(load, from: at, p99Before: before?.p99).map { max(0, Double($0) * step - e.time) }
        let later = samples.filter { $0.time >= e.time }
        if let node = e.node, let seen = later.first(where: { detected(e.event.action, node: node, in: $0, before: samples, at: e.time) }) {
            r.detectSeconds = seen.time - e.time
        }
        if e.event.action.changesMembership {
            membershipCost(&r, e, samples: samples, later: later)
        }
        return r
    }

    /// The first interval with completed operations (warm-up intervals are empty).
    static func firstLoaded(_ load: LoadSeries) -> Int { load.operations.firstIndex { $0 > 0 } ?? 0 }

    static func sum(_ xs: [Int], _ from: Int, _ to: Int) -> Int {
        guard from < to else { return 0 }
        return xs[max(0, min(from, xs.count))..<max(0, min(to, xs.count))].reduce(0, +)
    }

    static func rate(_ load: LoadSeries, _ from: Int, _ to: Int) -> Double {
        let lo = max(0, from), hi = min(to, load.operations.count)
        guard lo < hi else { return 0 }
        return Double(sum(load.operations, lo, hi)) / (Double(hi - lo) * load.intervalSeconds)
    }

    /// The first interval from `from` that starts three healthy ones in a row (no errors, operations
    /// completed, p99 within bounds of the steady p99 when there is one).
    static func recovery(_ load: LoadSeries, from: Int, p99Before: Double?) -> Int? {
        let need = 3
        let ceiling = p99Before.map { max(2 * $0, $0 + 1000) } ?? .infinity
        var run = 0
        for i in max(0, from)..<load.operations.count {
            let healthy = load.errors[i] == 0 && load.operations[i] > 0
                && (ceiling.isInfinite || (load.windowPercentiles(i, i + 1)?.p99 ?? .infinity) <= ceiling)
            run = healthy ? run + 1 : 0
            if run == need { return i - need + 1 }
        }
        return nil
    }

    /// Whether every other reachable node shows the event's effect in `sample`.
    static func detected(_ action: ScenarioAction, node: String, in sample: ClusterSample, before: [ClusterSample],
                         at time: Double) -> Bool {
        let observers = sample.observers(excluding: node)
        guard !observers.isEmpty else { return false }
        switch action {
        case .kill, .pause:
            return observers.allSatisfy { $0.view[node] == "down" }
        case .restart, .resume:
            return observers.allSatisfy { $0.view[node] == "up" }
        case .addNode, .leave, .removeNode:
            let previous = before.last { $0.time < time }?.nodes.filter(\.reachable).map(\.ringMembers).max() ?? 0
            let expected = action == .addNode ? previous + 1 : previous - 1
            return sample.nodes.filter { $0.reachable && $0.node != (action == .addNode ? "" : node) }
                .allSatisfy { $0.ringMembers == expected }
        case .hotKey, .rate:
            return false
        }
    }

    static func membershipCost(_ r: inout EventReport, _ e: ExecutedEvent, samples: [ClusterSample], later: [ClusterSample]) {
        guard let before = samples.last(where: { $0.time < e.time }) ?? samples.first else { return }
        let live = before.nodes.filter(\.reachable)
        let copies = live.reduce(0) { $0 + $1.keys }
        r.copiesBefore = copies
        switch e.event.action {
        case .addNode:
            r.idealKeysMoved = live.isEmpty ? nil : Int((Double(copies) / Double(live.count + 1)).rounded())
        case .leave, .removeNode:
            // What it held when last seen (a node removed after a crash is not reachable any more).
            r.idealKeysMoved = samples.last { s in s.time < e.time && s.nodes.contains { $0.node == e.node && $0.reachable } }?
                .nodes.first { $0.node == e.node }?.keys
        default:
            break
        }
        // Balanced: the ring change was seen and, from then on, no reachable node is rebalancing.
        guard let seen = r.detectSeconds else { return }
        let settled = later.filter { $0.time >= e.time + seen }
        guard let done = settled.first(where: { s in s.nodes.allSatisfy { !$0.reachable || !$0.rebalancing } }) else { return }
        r.balancedSeconds = done.time - e.time
        // Counters of nodes that existed before the event count from their value then; a new node from 0.
        var keys = 0, bytes = 0
        for n in done.nodes where n.reachable {
            let old = before.nodes.first { $0.node == n.node && $0.reachable }
            keys += n.rebalanceKeysReceived - (old?.rebalanceKeysReceived ?? 0)
            bytes += n.rebalanceBytesReceived - (old?.rebalanceBytesReceived ?? 0)
        }
        r.keysMoved = keys
        r.bytesMoved = bytes
    }
}
