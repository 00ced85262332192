/// What a sweep varies.
public enum SweepAxis: String, CaseIterable, Sendable {
    /// Tokens per node, doubling from the start (1, 2, 4, ... 1024): balance vs vnodes.
    case vnodes
    /// Cluster size, linear with a step (3, 4, ... 100): movement vs cluster size.
    case nodes

    /// The points from `from` to `to` (inclusive): doubling for vnodes, `step` apart for nodes.
    public func points(from: Int, to: Int, step: Int) -> [Int] {
        guard from >= 1, to >= from else { return [] }
        switch self {
        case .vnodes:
            var points: [Int] = []
            var v = from
            while v <= to {
                points.append(v)
                v *= 2
            }
            return points
        case .nodes:
            return Array(stride(from: from, through: to, by: max(1, step)))
        }
    }

    /// Schemes worth running on this axis: a vnode sweep only changes the vnode-based schemes.
    public func schemes(from selected: [PartitioningScheme]) -> [PartitioningScheme] {
        switch self {
        case .vnodes:
            let relevant = selected.filter { $0 == .vnodes || $0 == .bounded }
            return relevant.isEmpty ? [.vnodes] : relevant
        case .nodes:
            return selected
        }
    }
}

extension RingLab {
    /// One result per (point, scheme): the base configuration with the axis set to each point. The
    /// keys are hashed once and shared. `progress` is told each finished point.
    public static func sweep(
        _ axis: SweepAxis, points: [Int], base: RingLabConfig, progress: (Int, [SchemeResult]) -> Void = { _, _ in }
    ) -> [SchemeResult] {
        var config = base
        config.schemes = axis.schemes(from: base.schemes)
        let keys = LabKeys(count: base.keys, threads: base.threads)
        var results: [SchemeResult] = []
        for point in points {
            switch axis {
            case .vnodes: config.vnodes = point
            case .nodes: config.nodes = point
            }
            let rows = RingLab(config: config, keys: keys).run()
            progress(point, rows)
            results += rows
        }
        return results
    }
}
