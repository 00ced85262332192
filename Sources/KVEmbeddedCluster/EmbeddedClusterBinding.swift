import KVCluster
import KVClusterShell
import KVLoad
import KVStorage
import KVVersioning
import KVWorkload

/// The `embedded` binding's default form: an `InProcessCluster` driven from the worker threads. Each
/// operation goes to its key's first replica, which coordinates it with the cluster's N/R/W (plain
/// writes, as a Redis client's `SET` to `kvnode`), so `nodes.csv` shows how the keys' owners share the
/// load. Every call blocks its worker until the coordinator answers (closed loop per thread).
public final class EmbeddedClusterBinding: SyncBinding, @unchecked Sendable {
    public let cluster: InProcessCluster

    public init(cluster: InProcessCluster) {
        self.cluster = cluster
    }

    public var nodeNames: [String] { cluster.ids }

    public func makeSession(worker: Int) throws -> any SyncSession { EmbeddedClusterSession(cluster: cluster) }

    /// Writes the load phase's records (unmeasured), up to `batch` at a time per coordinator.
    public func preload(spec: WorkloadSpec, batch: Int = 256) throws {
        var stream = OperationStream(spec: spec, phase: .load)
        var values = RecordValues(spec: spec, pool: RecordValues.makePool(for: spec))
        defer { values.deallocate() }
        var pending = Array(repeating: [ClientRequest](), count: cluster.ids.count)
        let waiter = InProcessCluster.Waiter()
        var failed = 0
        func send(_ node: Int) {
            let answers = cluster.call(pending[node], on: node, waiter: waiter)
            failed += answers.filter { EmbeddedClusterSession.outcome(of: $0) != .ok }.count
            pending[node].removeAll(keepingCapacity: true)
        }
        for _ in 0..<stream.operationLimit {
            _ = stream.next()
            let value = values.next(&stream)
            let key = stream.withKey { Array($0) }
            let node = cluster.owner(of: key)
            pending[node].append(.plainSet(key: key, value: Array(value), quorum: Quorum()))
            if pending[node].count >= batch { send(node) }
        }
        for node in pending.indices where !pending[node].isEmpty { send(node) }
        if failed > 0 { throw EmbeddedClusterError.preloadFailed(failed) }
    }
}

/// Why the embedded cluster could not be used.
public enum EmbeddedClusterError: Error, CustomStringConvertible {
    case preloadFailed(Int)

    public var description: String {
        switch self {
        case .preloadFailed(let n): return "preloading the in-process cluster: \(n) writes were not acknowledged"
        }
    }
}

/// One worker's session with an `InProcessCluster`.
public struct EmbeddedClusterSession: SyncSession {
    let cluster: InProcessCluster
    let waiter = InProcessCluster.Waiter()
    public private(set) var lastNode = 0

    init(cluster: InProcessCluster) {
        self.cluster = cluster
    }

    public mutating func perform(_ request: OperationRequest) -> OperationOutcome {
        let key = Array(request.key)
        let node = cluster.owner(of: key)
        lastNode = node
        switch request.operation.kind {
        case .read:
            return one(.get(key: key, quorum: Quorum()), node)
        case .update, .insert:
            return one(.plainSet(key: key, value: Array(request.value), quorum: Quorum()), node)
        case .delete:
            return one(.plainDelete(key: key, quorum: Quorum()), node)
        case .readModifyWrite:
            let read = one(.get(key: key, quorum: Quorum()), node)
            let write = one(.plainSet(key: key, value: Array(request.value), quorum: Quorum()), node)
            return write == .ok ? read : write  // the read decides found / not found unless the write failed
        case .scan:
            // YCSB's scan over consecutive keynums: one read of each, all coordinated by the first key's owner.
            var gets: [ClientRequest] = []
            withUnsafeTemporaryAllocation(byteCount: request.keyNamer.maximumLength, alignment: 1) { buffer in
                for i in 0..<Int64(request.operation.scanLength) {
                    let n = request.keyNamer.write(keyNumber: request.operation.keyNumber + i, into: buffer)
                    gets.append(.get(key: Array(buffer[0..<n]), quorum: Quorum()))
                }
            }
            let outcomes = cluster.call(gets, on: node, waiter: waiter).map(Self.outcome)
            if outcomes.contains(.error) { return .error }
            if outcomes.contains(.timeout) { return .timeout }
            return outcomes.contains(.ok) ? .ok : .notFound
        }
    }

    private func one(_ request: ClientRequest, _ node: Int) -> OperationOutcome {
        Self.outcome(of: cluster.call([request], on: node, waiter: waiter)[0])
    }

    /// How a coordinator's answer counts: a read of only tombstones (or nothing) is "not found"; a
    /// quorum not reached in time is a timeout (a write may still have been applied); a refusal is an error.
    static func outcome(of answer: ClusterAnswer) -> OperationOutcome {
        switch answer {
        case .reply(.value(let set)): return set.isDeleted ? .notFound : .ok  // empty, or tombstones only
        case .reply(.written): return .ok
        case .reply(.notAcknowledged), .reply(.readTimedOut): return .timeout
        case .reply(.unavailable), .refused: return .error
        }
    }
}
