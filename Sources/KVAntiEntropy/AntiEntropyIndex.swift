import KVCluster
import KVVersioning

/// One key's entry in a leaf bucket: the key and its version digest.
public struct KeyDigest: Equatable, Sendable {
    public var key: [UInt8]
    public var digest: UInt64
    /// `Placement.hash(key)`: a bucket scan compares it before the key, so finding a key among a leaf's
    /// entries reads their inline hashes, not every other key's heap storage.
    public let keyHash: UInt64

    public init(key: [UInt8], digest: UInt64) {
        self.init(key: key, keyHash: Placement.hash(key), digest: digest)
    }

    init(key: [UInt8], keyHash: UInt64, digest: UInt64) {
        self.key = key
        self.digest = digest
        self.keyHash = keyHash
    }
}

/// A node's anti-entropy state: for every range it replicates, a `MerkleTree` plus the keys of
/// each leaf bucket with their digests, kept up to date by `record(key:siblings:)` on every write
/// (O(depth) tree update plus a small per-bucket list edit; nothing is rescanned).
///
/// A reference type so that the write path (`AntiEntropyStore`) and the session state machine
/// (`AntiEntropyNode`) share it; confine it to one thread or event loop, like `LocalStore`.
public final class AntiEntropyIndex {
    public let ranges: ReplicaRanges
    public let shape: MerkleShape
    public private(set) var trees: [MerkleTree]
    /// `buckets[range][leaf]`: the keys of that leaf, in insertion order.
    private var buckets: [[[KeyDigest]]]
    /// Keys indexed, over all ranges.
    public private(set) var keyCount = 0

    public init(ranges: ReplicaRanges, shape: MerkleShape = .standard) {
        self.ranges = ranges
        self.shape = shape
        trees = ranges.ranges.map { _ in MerkleTree(shape: shape) }
        buckets = ranges.ranges.map { _ in [[KeyDigest]](repeating: [], count: shape.leafCount) }
    }

    /// Records a key's new state (nil: removed). Keys this node does not replicate are ignored.
    public func record(key: [UInt8], siblings: SiblingSet?) {
        let keyHash = Placement.hash(key)
        guard let at = location(keyHash: keyHash) else { return }
        record(key: key, keyHash: keyHash, at: at, digest: siblings.map { MerkleTree.keyDigest(keyHash: keyHash, siblings: $0) })
    }

    /// Records a key with a digest computed before (another index of the same key, after a ring change).
    public func record(key: [UInt8], digest: UInt64?) {
        let keyHash = Placement.hash(key)
        guard let at = location(keyHash: keyHash) else { return }
        record(key: key, keyHash: keyHash, at: at, digest: digest)
    }

    private func record(key: [UInt8], keyHash: UInt64, at: (range: Int, bucket: Int), digest new: UInt64?) {
        let (r, bucket) = at
        let position = index(of: key, keyHash: keyHash, at: at)
        let old = position.map { buckets[r][bucket][$0].digest }
        if old == new { return }
        trees[r].update(bucket: bucket, old: old, new: new)
        switch (position, new) {
        case let (i?, d?): buckets[r][bucket][i].digest = d
        case let (i?, nil):
            buckets[r][bucket].swapAt(i, buckets[r][bucket].count - 1)
            buckets[r][bucket].removeLast()
            keyCount -= 1
        case let (nil, d?):
            buckets[r][bucket].append(KeyDigest(key: key, keyHash: keyHash, digest: d))
            keyCount += 1
        case (nil, nil): break
        }
    }

    /// The range index and bucket of a key, or nil when this node does not replicate it.
    public func location(of key: [UInt8]) -> (range: Int, bucket: Int)? {
        location(keyHash: Placement.hash(key))
    }

    private func location(keyHash: UInt64) -> (range: Int, bucket: Int)? {
        guard let r = ranges.rangeIndex(forKeyHash: keyHash) else { return nil }
        return (r, shape.bucket(forKeyHash: keyHash))
    }

    /// Where `key` sits in its bucket's list: the inline hashes are compared first, so the scan reads
    /// another key's storage only on a 64-bit hash match.
    private func index(of key: [UInt8], keyHash: UInt64, at: (range: Int, bucket: Int)) -> Int? {
        buckets[at.range][at.bucket].firstIndex { $0.keyHash == keyHash && $0.key == key }
    }

    /// The keys of one leaf bucket of one range.
    public func entries(range: Int, bucket: Int) -> [KeyDigest] { buckets[range][bucket] }

    /// The digest recorded for a key, if any.
    public func digest(of key: [UInt8]) -> UInt64? {
        let keyHash = Placement.hash(key)
        guard let at = location(keyHash: keyHash), let i = index(of: key, keyHash: keyHash, at: at) else { return nil }
        return buckets[at.range][at.bucket][i].digest
    }

    /// Every (bucket, digest) pair of a range, for rebuilding its tree from scratch (tests, audits).
    public func allEntries(range: Int) -> [(bucket: Int, digest: UInt64)] {
        var out: [(bucket: Int, digest: UInt64)] = []
        for (b, list) in buckets[range].enumerated() { for e in list { out.append((b, e.digest)) } }
        return out
    }
}

/// What the session state machine reads: the sibling set stored for a key.
public protocol AntiEntropySource: AnyObject {
    func siblings(for key: [UInt8]) -> SiblingSet?
}

/// A `LocalStore` decorator that keeps an `AntiEntropyIndex` current: every `setObject` and
/// `removeObject` goes to the wrapped store and then updates the index. Wrap the node's store with
/// it and hand the decorator to `ClusterNode`; at start, `indexExisting(keys:)` loads what is on disk.
public final class AntiEntropyStore: LocalStore, AntiEntropySource {
    public let inner: any LocalStore
    public private(set) var index: AntiEntropyIndex

    public init(wrapping inner: any LocalStore, index: AntiEntropyIndex) {
        self.inner = inner
        self.index = index
    }

    /// Indexes keys already in the wrapped store (one pass at start-up).
    public func indexExisting(keys: some Sequence<[UInt8]>) {
        for key in keys { index.record(key: key, siblings: inner.object(for: key)?.siblings) }
    }

    /// The complete index of before a ring change, kept current while `index` is filled in steps.
    private var previous: AntiEntropyIndex?
    private var pendingKeys: [[UInt8]] = []
    private var pendingNext = 0

    /// True while keys stored before the last ring change are still being added to `index`.
    public var isReindexing: Bool { previous != nil }

    /// Switches to `index` (new ranges after a ring change); `continueReindex` then indexes the stored
    /// keys into it a slice at a time, so a large store does not stall its event loop. Writes meanwhile
    /// go to both indexes; the old one supplies digests, so only keys it did not cover are read.
    public func beginReindex(_ index: AntiEntropyIndex) {
        if previous == nil { previous = self.index }
        self.index = index
        pendingKeys = inner.allKeys()
        pendingNext = 0
    }

    /// Indexes up to `limit` more keys; true once every key is in.
    public func continueReindex(limit: Int) -> Bool {
        guard let previous else { return true }
        let end = min(pendingKeys.count, pendingNext + max(1, limit))
        while pendingNext < end {
            let key = pendingKeys[pendingNext]
            pendingNext += 1
            // Skipped: keys outside the new ranges, and keys written since (already recorded, current).
            guard index.location(of: key) != nil, index.digest(of: key) == nil else { continue }
            if let digest = previous.digest(of: key) {
                index.record(key: key, digest: digest)
            } else {
                index.record(key: key, siblings: inner.object(for: key)?.siblings)
            }
        }
        guard pendingNext >= pendingKeys.count else { return false }
        self.previous = nil
        pendingKeys = []
        return true
    }

    public func siblings(for key: [UInt8]) -> SiblingSet? { inner.object(for: key)?.siblings }

    public func object(for key: [UInt8]) -> StoredObject? { inner.object(for: key) }

    public func setObject(_ object: StoredObject, for key: [UInt8]) {
        inner.setObject(object, for: key)
        index.record(key: key, siblings: object.siblings)
        previous?.record(key: key, siblings: object.siblings)
    }

    public func removeObject(for key: [UInt8]) {
        inner.removeObject(for: key)
        index.record(key: key, siblings: nil)
        previous?.record(key: key, siblings: nil)
    }

    public func allHints() -> [Hint] { inner.allHints() }
    public func hint(owner: NodeID, key: [UInt8]) -> Hint? { inner.hint(owner: owner, key: key) }
    public func setHint(_ hint: Hint) { inner.setHint(hint) }
    public func removeHint(owner: NodeID, key: [UInt8]) { inner.removeHint(owner: owner, key: key) }
    public func hasHints(for key: [UInt8]) -> Bool { inner.hasHints(for: key) }
    public var hintCount: Int { inner.hintCount }
    public func allKeys() -> [[UInt8]] { inner.allKeys() }
    public func nextEpoch() -> UInt32 { inner.nextEpoch() }
    public func nextIncarnation() -> UInt32 { inner.nextIncarnation() }
}
