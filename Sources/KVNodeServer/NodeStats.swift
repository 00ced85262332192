import Synchronization

/// Counters for `INFO stats`. Each event loop writes its own shard (relaxed atomics on separate cache
/// lines, so loops never contend); `INFO` sums the shards.
public final class NodeStats: Sendable {
    /// One event loop's counters.
    public final class Shard: Sendable {
        public let commands = Atomic<Int>(0)
        public let keyspaceHits = Atomic<Int>(0)
        public let keyspaceMisses = Atomic<Int>(0)
        public let netInputBytes = Atomic<Int>(0)
        public let netOutputBytes = Atomic<Int>(0)
        public let protocolErrors = Atomic<Int>(0)
        public let errorReplies = Atomic<Int>(0)
        // Padding keeps neighbouring shards' hot counters on different cache lines.
        private let padding = (0, 0, 0, 0, 0, 0, 0, 0)
        init() {}
    }

    public let shards: [Shard]
    public let connectionsReceived = Atomic<Int>(0)
    public let connectedClients = Atomic<Int>(0)
    public let rejectedConnections = Atomic<Int>(0)
    public let nextClientID = Atomic<Int>(1)

    public init(shardCount: Int) {
        shards = (0..<max(1, shardCount)).map { _ in Shard() }
    }

    /// Totals across shards.
    public struct Totals: Sendable {
        public var commands = 0, keyspaceHits = 0, keyspaceMisses = 0, netInputBytes = 0, netOutputBytes = 0,
                   protocolErrors = 0, errorReplies = 0
    }

    public func totals() -> Totals {
        var t = Totals()
        for s in shards {
            t.commands += s.commands.load(ordering: .relaxed)
            t.keyspaceHits += s.keyspaceHits.load(ordering: .relaxed)
            t.keyspaceMisses += s.keyspaceMisses.load(ordering: .relaxed)
            t.netInputBytes += s.netInputBytes.load(ordering: .relaxed)
            t.netOutputBytes += s.netOutputBytes.load(ordering: .relaxed)
            t.protocolErrors += s.protocolErrors.load(ordering: .relaxed)
            t.errorReplies += s.errorReplies.load(ordering: .relaxed)
        }
        return t
    }
}

extension Atomic where Value == Int {
    /// Relaxed increment used on the hot path.
    @inlinable func bump(_ by: Int = 1) {
        add(by, ordering: .relaxed)
    }
}
