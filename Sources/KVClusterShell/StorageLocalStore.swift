import KVCluster
import KVStorage
import Logging

/// `LocalStore` on the node's storage engine: a cluster node's sibling sets, hints and counters live in
/// the same durable log as everything else, under one-byte key prefixes (`o` objects, `h` hints, `m` meta).
///
/// Writes are appended to the log at once; the newest write's ticket is remembered so the shell can hold
/// every effect that depends on it (acks, replies) until the fsync policy is met (`takeTicket`). A write
/// the engine refuses is remembered too (`takeFailure`): the shell then withholds the acknowledgements.
/// Hints are mirrored in memory (loaded at start) because the handoff timer walks them all.
/// Objects read again soon after a read are kept decoded (`hotObjectCapacity` of them), so a hot key is
/// served without decoding its stored bytes on every request; the log stays the only durable copy.
/// Confined to the cluster shell's event loop like the `ClusterNode` that uses it.
public final class StorageLocalStore: LocalStore {
    static let objectPrefix = UInt8(ascii: "o")
    static let hintPrefix = UInt8(ascii: "h")
    static let metaPrefix = UInt8(ascii: "m")

    public let engine: StorageEngine
    private let logger: Logger
    private var hints: [HintKey: Hint] = [:]
    private var hintKeysPerKey: [[UInt8]: Int] = [:]
    private var epoch: UInt32
    private var incarnation: UInt32
    private var pendingTicket = DurabilityTicket.none
    private var failure: StorageError?
    /// Objects whose stored bytes failed to decode (reported, treated as absent).
    public private(set) var corruptObjects = 0
    /// Decoded objects by key, each equal to what the engine holds for it; on overflow the CLOCK policy
    /// picks the entry that goes (one not used since the hand last passed it).
    private var hot: ClockCache<BytesKey, StoredObject>
    /// Which missed keys enter `hot`: those missed twice in a short while. A uniform load over many more
    /// keys than `hot` holds then pays for no inserts and evictions (each write reads its key first, so
    /// that read is where keys are admitted).
    private var admission: RecentSightings
    /// How many decoded objects `hot` keeps.
    public var hotObjectCapacity: Int { hot.capacity }
    /// Object reads served from `hot`, and reads that decoded the stored bytes.
    public private(set) var hotHits = 0
    public private(set) var hotMisses = 0

    private struct HintKey: Hashable {
        var owner: NodeID
        var key: [UInt8]
    }

    /// Loads hints and counters from the engine (a fresh data directory starts empty).
    public init(engine: StorageEngine, logger: Logger, hotObjectCapacity: Int = 4096) {
        self.engine = engine
        self.logger = logger
        hot = ClockCache(capacity: hotObjectCapacity)
        admission = RecentSightings(slots: 4 * max(1, hotObjectCapacity))
        epoch = Self.readCounter(engine, "epoch")
        incarnation = Self.readCounter(engine, "incarnation")
        for (key, value) in engine.entries(withPrefix: [Self.hintPrefix]) {
            do {
                let hint = try ClusterCoding.decodeHint(value)
                setHintInMemory(hint)
            } catch {
                logger.error("dropping unreadable hint record (\(key.count) byte key): \(error)")
            }
        }
    }

    // MARK: Shell interface

    /// The newest write since the last call (`.none` when nothing was written), and forgets it.
    public func takeTicket() -> DurabilityTicket {
        defer { pendingTicket = .none }
        return pendingTicket
    }

    /// The first storage error since the last call, and forgets it.
    public func takeFailure() -> StorageError? {
        defer { failure = nil }
        return failure
    }

    /// Number of keys this node holds versions for.
    /// Stored objects (hints and metadata live under other prefixes and are not counted); no scan, and
    /// no TTLs in cluster mode, so nothing counted has expired.
    public var objectCount: Int { engine.count(withFirstByte: Self.objectPrefix) }

    // MARK: LocalStore

    public func object(for key: [UInt8]) -> StoredObject? {
        if let object = hot.value(for: BytesKey(key)) {
            hotHits += 1
            return object
        }
        hotMisses += 1
        guard let bytes = engine.get(Self.objectKey(key)) else { return nil }
        do {
            let object = try ClusterCoding.decodeStoredObject(bytes)
            if hotObjectCapacity > 0, admission.sawBefore(Int(truncatingIfNeeded: Placement.hash(key))) {
                hot.setValue(object, for: BytesKey(key))
            }
            return object
        } catch {
            corruptObjects += 1
            logger.error("unreadable stored object (\(key.count) byte key): \(error)")
            return nil
        }
    }

    public func setObject(_ object: StoredObject, for key: [UInt8]) {
        if write(Self.objectKey(key), ClusterCoding.encode(object)) {
            hot.updateValue(object, for: BytesKey(key))  // a key not cached stays so: only reads admit (see `admission`)
        } else {
            hot.removeValue(for: BytesKey(key))  // the engine kept the old bytes (or none): so must the cache
        }
    }

    public func removeObject(for key: [UInt8]) {
        hot.removeValue(for: BytesKey(key))
        delete(Self.objectKey(key))
    }

    /// Objects kept decoded now.
    public var hotObjectCount: Int { hot.count }

    public func allHints() -> [Hint] { hints.values.sorted { $0.sequence < $1.sequence } }

    public func hint(owner: NodeID, key: [UInt8]) -> Hint? { hints[HintKey(owner: owner, key: key)] }

    public func setHint(_ hint: Hint) {
        write(Self.hintKey(owner: hint.owner, key: hint.key), ClusterCoding.encode(hint))
        setHintInMemory(hint)
    }

    public func removeHint(owner: NodeID, key: [UInt8]) {
        guard hints.removeValue(forKey: HintKey(owner: owner, key: key)) != nil else { return }
        let left = (hintKeysPerKey[key] ?? 1) - 1
        hintKeysPerKey[key] = left > 0 ? left : nil
        delete(Self.hintKey(owner: owner, key: key))
    }

    public func hasHints(for key: [UInt8]) -> Bool { hintKeysPerKey[key] != nil }

    public var hintCount: Int { hints.count }

    public func allKeys() -> [[UInt8]] {
        engine.keys(withPrefix: [Self.objectPrefix])
    }

    public func nextEpoch() -> UInt32 {
        epoch += 1
        writeCounter("epoch", epoch)
        return epoch
    }

    /// The incarnation handed out last (0 before the first start).
    public var currentIncarnation: UInt32 { incarnation }

    public func nextIncarnation() -> UInt32 {
        incarnation += 1
        writeCounter("incarnation", incarnation)
        return incarnation
    }

    // MARK: Meta records

    /// Reads a small meta record (e.g. the learned membership).
    public func meta(_ name: String) -> [UInt8]? { engine.get(Self.metaKey(name)) }

    /// Writes a small meta record (durable per the fsync policy, like every other write).
    public func setMeta(_ name: String, _ value: [UInt8]) { write(Self.metaKey(name), value) }

    // MARK: Keys and writes

    static func objectKey(_ key: [UInt8]) -> [UInt8] { [objectPrefix] + key }

    static func hintKey(owner: NodeID, key: [UInt8]) -> [UInt8] {
        let o = Array(owner.utf8)
        return [hintPrefix, UInt8(truncatingIfNeeded: o.count)] + o + key
    }

    static func metaKey(_ name: String) -> [UInt8] { [metaPrefix] + Array(name.utf8) }

    private func setHintInMemory(_ hint: Hint) {
        if hints.updateValue(hint, forKey: HintKey(owner: hint.owner, key: hint.key)) == nil {
            hintKeysPerKey[hint.key, default: 0] += 1
        }
    }

    private static func readCounter(_ engine: StorageEngine, _ name: String) -> UInt32 {
        guard let b = engine.get(metaKey(name)), b.count == 4 else { return 0 }
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }

    private func writeCounter(_ name: String, _ value: UInt32) {
        write(Self.metaKey(name), [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) })
    }

    /// Appends a record; false when the engine refused it (the failure is noted for the shell).
    @discardableResult
    private func write(_ key: [UInt8], _ value: [UInt8]) -> Bool {
        do {
            note(try engine.set(key, value).ticket)
            return true
        } catch {
            noteFailure(error)
            return false
        }
    }

    private func delete(_ key: [UInt8]) {
        do {
            note(try engine.delete(key).ticket)
        } catch {
            noteFailure(error)
        }
    }

    private func note(_ ticket: DurabilityTicket) {
        if ticket > pendingTicket { pendingTicket = ticket }
    }

    private func noteFailure(_ error: StorageError) {
        logger.error("cluster store write failed: \(error)")
        if failure == nil { failure = error }
    }
}
