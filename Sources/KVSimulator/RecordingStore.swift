import KVCluster
import KVVersioning

/// A node's durable store in the simulator: an `InMemoryLocalStore` (kept across simulated
/// crashes) that also tells the checker which dot each written value got when first stored, even
/// for writes whose client never heard back (the checker needs it to account for reaped tombstones).
final class RecordingStore: LocalStore {
    let base = InMemoryLocalStore()
    var onStore: (SiblingSet) -> Void = { _ in }

    func object(for key: [UInt8]) -> StoredObject? { base.object(for: key) }
    func setObject(_ object: StoredObject, for key: [UInt8]) {
        onStore(object.siblings)
        base.setObject(object, for: key)
    }
    func removeObject(for key: [UInt8]) { base.removeObject(for: key) }
    func allHints() -> [Hint] { base.allHints() }
    func hint(owner: NodeID, key: [UInt8]) -> Hint? { base.hint(owner: owner, key: key) }
    func setHint(_ hint: Hint) { base.setHint(hint) }
    func removeHint(owner: NodeID, key: [UInt8]) { base.removeHint(owner: owner, key: key) }
    func hasHints(for key: [UInt8]) -> Bool { base.hasHints(for: key) }
    var hintCount: Int { base.hintCount }
    func allKeys() -> [[UInt8]] { base.allKeys() }
    func nextEpoch() -> UInt32 { base.nextEpoch() }
    func nextIncarnation() -> UInt32 { base.nextIncarnation() }
}
