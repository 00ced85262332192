import KVVersioning

/// What a client operation did.
public enum OperationKind: String, Sendable {
    case read, write, delete
}

/// How an operation ended (Jepsen's ok / fail / info).
public enum Outcome: String, Sendable {
    case pending
    /// Acknowledged (writes) or answered (reads).
    case ok
    /// Definitely did not happen (nothing was sent).
    case failed
    /// May or may not have happened (timeout, not acknowledged, node crashed).
    case unknown
}

/// One client operation in the recorded history.
public struct Operation: Sendable {
    /// Also the written value's identity (values and tombstone tags encode it).
    public let id: Int
    public let client: Int
    public let key: Int
    public let kind: OperationKind
    public let invokedAt: UInt64
    public var completedAt: UInt64 = 0
    public var outcome: Outcome = .pending
    /// Writes and deletes: every write the client's context had seen (transitively) — exactly the
    /// writes this one may supersede.
    public var seen: Set<Int> = []
    /// Writes and deletes that reached a store (whatever the client heard): the dot they were stamped with.
    public var dot: Dot? = nil
    /// Reads: the ids of the siblings returned (tombstones included).
    public var returned: [Int] = []

    public init(id: Int, client: Int, key: Int, kind: OperationKind, invokedAt: UInt64) {
        self.id = id
        self.client = client
        self.key = key
        self.kind = kind
        self.invokedAt = invokedAt
    }
}

/// Value encoding: a write's bytes (and a delete's tombstone tag) are its operation id.
enum ValueID {
    static func encode(_ id: Int) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: UInt64(id) >> (8 * UInt64($0))) }
    }

    static func decode(_ bytes: [UInt8]) -> Int? {
        guard bytes.count == 8 else { return nil }
        var v: UInt64 = 0
        for (i, b) in bytes.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return Int(truncatingIfNeeded: v)
    }

    /// Operation ids of a set's siblings (tombstones included); -1 for bytes that are not an id.
    static func ids(_ set: SiblingSet) -> [Int] { set.siblings.map { decode($0.value) ?? -1 } }
}
