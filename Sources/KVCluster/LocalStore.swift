import KVVersioning

/// Who asked for a stamp: the coordinating node and its request id. Remembered per key so a
/// duplicated stamp request is answered again instead of stamping a second sibling.
public struct StampOrigin: Hashable, Sendable {
    public var coordinator: NodeID
    public var request: RequestID

    public init(coordinator: NodeID, request: RequestID) {
        self.coordinator = coordinator
        self.request = request
    }
}

/// What a node stores for one key: the sibling set plus replica bookkeeping.
public struct StoredObject: Equatable, Sendable {
    /// The key's versions.
    public var siblings: SiblingSet
    /// The epoch this node stamps this key under; nil until it first stamps it while holding this
    /// object (an object received by replication gets a fresh epoch on its first local stamp).
    public var stampEpoch: UInt32?
    /// Recent stamps by origin (oldest first, bounded), for idempotent stamping.
    public var recentStamps: [RecentStamp]

    /// One remembered stamp.
    public struct RecentStamp: Equatable, Sendable {
        public var origin: StampOrigin
        public var dot: Dot
        public init(origin: StampOrigin, dot: Dot) {
            self.origin = origin
            self.dot = dot
        }
    }

    public init(siblings: SiblingSet = SiblingSet(), stampEpoch: UInt32? = nil, recentStamps: [RecentStamp] = []) {
        self.siblings = siblings
        self.stampEpoch = stampEpoch
        self.recentStamps = recentStamps
    }
}

/// A durable promise to hand a key's data to its owner once the owner is reachable.
public struct Hint: Equatable, Sendable {
    /// The true replica the write was meant for.
    public var owner: NodeID
    public var key: [UInt8]
    /// Changes on every new hinted write, so an ack for an older delivery does not drop newer data.
    public var sequence: UInt64
    /// When the oldest undelivered write under this hint arrived (the window runs from here).
    public var createdAt: Tick

    public init(owner: NodeID, key: [UInt8], sequence: UInt64, createdAt: Tick) {
        self.owner = owner
        self.key = key
        self.sequence = sequence
        self.createdAt = createdAt
    }
}

/// The durable state of one node, implemented by the shell (on KVStorage) and by the simulator (in
/// memory, surviving simulated crashes). Every mutating call must be durable when it returns: the
/// node acknowledges right after it.
public protocol LocalStore: AnyObject {
    func object(for key: [UInt8]) -> StoredObject?
    func setObject(_ object: StoredObject, for key: [UInt8])
    func removeObject(for key: [UInt8])
    /// All hints, in a deterministic order (by sequence).
    func allHints() -> [Hint]
    func hint(owner: NodeID, key: [UInt8]) -> Hint?
    /// Inserts or replaces the hint for (owner, key).
    func setHint(_ hint: Hint)
    func removeHint(owner: NodeID, key: [UInt8])
    func hasHints(for key: [UInt8]) -> Bool
    var hintCount: Int { get }
    /// Every key this node holds an object for (a snapshot, for the rebalancing pass).
    func allKeys() -> [[UInt8]]
    /// A fresh stamping epoch, never returned before by this store.
    func nextEpoch() -> UInt32
    /// A fresh incarnation number; called once per node start.
    func nextIncarnation() -> UInt32
}

/// An in-memory `LocalStore` for the simulator and tests: the simulator keeps it across a
/// simulated crash (durable state) while the `ClusterNode` (memory state) is thrown away.
public final class InMemoryLocalStore: LocalStore {
    private struct HintKey: Hashable {
        var owner: NodeID
        var key: [UInt8]
    }

    private var objects: [BytesKey: StoredObject] = [:]
    private var hints: [HintKey: Hint] = [:]
    private var hintKeysPerKey: [[UInt8]: Int] = [:]
    private var epochs: UInt32 = 0
    private var incarnations: UInt32 = 0

    public init() {}

    public func object(for key: [UInt8]) -> StoredObject? { objects[BytesKey(key)] }
    public func setObject(_ object: StoredObject, for key: [UInt8]) { objects[BytesKey(key)] = object }
    public func removeObject(for key: [UInt8]) { objects[BytesKey(key)] = nil }

    public func allHints() -> [Hint] { hints.values.sorted { $0.sequence < $1.sequence } }

    public func hint(owner: NodeID, key: [UInt8]) -> Hint? { hints[HintKey(owner: owner, key: key)] }

    public func setHint(_ hint: Hint) {
        let k = HintKey(owner: hint.owner, key: hint.key)
        if hints.updateValue(hint, forKey: k) == nil { hintKeysPerKey[hint.key, default: 0] += 1 }
    }

    public func removeHint(owner: NodeID, key: [UInt8]) {
        if hints.removeValue(forKey: HintKey(owner: owner, key: key)) != nil {
            let left = (hintKeysPerKey[key] ?? 1) - 1
            hintKeysPerKey[key] = left > 0 ? left : nil
        }
    }

    public func hasHints(for key: [UInt8]) -> Bool { hintKeysPerKey[key] != nil }
    public var hintCount: Int { hints.count }
    public func allKeys() -> [[UInt8]] { keys }

    public func nextEpoch() -> UInt32 {
        epochs += 1
        return epochs
    }

    public func nextIncarnation() -> UInt32 {
        incarnations += 1
        return incarnations
    }

    /// Every key held, sorted (for checkers and operators).
    public var keys: [[UInt8]] { objects.keys.map(\.bytes).sorted { $0.lexicographicallyPrecedes($1) } }
}
