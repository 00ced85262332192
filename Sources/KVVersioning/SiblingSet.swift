/// One concurrent version of a key: the dot of the write that created it, its bytes, and a
/// timestamp used only by last-write-wins resolution. A tombstone is a sibling that records a delete
/// (its bytes are empty in production; the simulator tags them to identify deletes).
public struct Sibling: Equatable, Hashable, Sendable {
    public var dot: Dot
    /// Coordinator time of the write (ticks or milliseconds); only LWW looks at it.
    public var timestamp: UInt64
    public var isTombstone: Bool
    public var value: [UInt8]

    public init(dot: Dot, timestamp: UInt64, isTombstone: Bool = false, value: [UInt8]) {
        self.dot = dot
        self.timestamp = timestamp
        self.isTombstone = isTombstone
        self.value = value
    }
}

/// A key's replicated state as a dotted version vector set: the causal context (every event this
/// replica has seen or superseded) and the siblings still standing (each with its own dot).
///
/// The operations are those of Almeida et al.'s DVV sets (Riak 2.0): `update` stamps a write that
/// carries the context its client read and supersedes exactly what that context covers; `sync`
/// merges two replicas' sets (commutative, associative, idempotent — so duplicated or reordered
/// replication cannot create siblings); `context` is what a read hands back to the client.
/// Siblings remain only for truly concurrent writes.
public struct SiblingSet: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// All events seen, including every sibling's dot.
    public private(set) var context: VersionVector
    /// Standing siblings, sorted by dot.
    public private(set) var siblings: [Sibling]

    /// An empty set (a key never written).
    public init() {
        context = VersionVector()
        siblings = []
    }

    /// Builds from parts; siblings are sorted and their dots added to the context.
    public init(context: VersionVector, siblings: [Sibling]) {
        var ctx = context
        for s in siblings { ctx.add(s.dot) }
        self.context = ctx
        self.siblings = siblings.sorted { $0.dot < $1.dot }
    }

    /// Builds from a context that covers every sibling's dot and siblings sorted by dot (checked by
    /// the caller: the decoder).
    init(validatedContext: VersionVector, sortedSiblings: [Sibling]) {
        context = validatedContext
        siblings = sortedSiblings
    }

    /// True when nothing was ever written (no context, no siblings).
    public var isEmpty: Bool { siblings.isEmpty && context.isEmpty }

    /// Siblings that are values (not tombstones).
    public var liveSiblings: [Sibling] { siblings.filter { !$0.isTombstone } }

    /// True when every standing sibling is a tombstone (the key reads as deleted).
    public var isDeleted: Bool { siblings.allSatisfy(\.isTombstone) }

    /// Stamps a new write by `actor` that supersedes everything `clientContext` covers; returns its dot.
    ///
    /// The caller must hold this set continuously under `actor` (see `Actor`): the new counter is
    /// one past the actor's highest event seen.
    @discardableResult
    public mutating func update(
        clientContext: VersionVector,
        actor: Actor,
        value: [UInt8],
        isTombstone: Bool = false,
        timestamp: UInt64
    ) -> Dot {
        discard(clientContext)
        let dot = Dot(actor: actor, counter: context[actor] + 1)
        context.add(dot)
        insertSorted(Sibling(dot: dot, timestamp: timestamp, isTombstone: isTombstone, value: value))
        return dot
    }

    /// Drops the siblings `clientContext` covers and folds the context in.
    public mutating func discard(_ clientContext: VersionVector) {
        if clientContext.isEmpty { return }
        siblings.removeAll { clientContext.covers($0.dot) }
        context.formUnion(clientContext)
    }

    /// Removes tombstone siblings. The context keeps their dots, so the deleted versions stay
    /// superseded (a stale replica or hinted copy syncing in later cannot resurrect them); only the
    /// context remains stored. Call once the delete is known to be on every replica.
    public mutating func removeTombstones() {
        siblings.removeAll(where: \.isTombstone)
    }

    /// Merges another replica's set into this one: a sibling survives when the other side also has
    /// it or has never seen its dot; the contexts unite.
    public mutating func sync(_ other: SiblingSet) {
        if other.isEmpty { return }
        if isEmpty { self = other; return }
        let a = siblings, b = other.siblings
        // The merge keeps, in dot order: a sibling both sides hold, and one side's sibling the other
        // side's context has not seen. A first walk only checks whether that is exactly one side's
        // list (the usual case: a replica receiving a newer copy keeps the incoming list); the list
        // is built only when it is neither.
        var keepsA = true, keepsB = true
        var i = 0, j = 0
        while (keepsA || keepsB) && (i < a.count || j < b.count) {
            if j == b.count || (i < a.count && a[i].dot < b[j].dot) {
                if other.context.covers(a[i].dot) { keepsA = false } else { keepsB = false }
                i += 1
            } else if i == a.count || b[j].dot < a[i].dot {
                if context.covers(b[j].dot) { keepsB = false } else { keepsA = false }
                j += 1
            } else {
                i += 1; j += 1
            }
        }
        if keepsA {
            // nothing to change in the list
        } else if keepsB {
            siblings = b
        } else {
            var out: [Sibling] = []
            out.reserveCapacity(a.count + b.count)
            i = 0; j = 0
            while i < a.count || j < b.count {
                if j == b.count || (i < a.count && a[i].dot < b[j].dot) {
                    if !other.context.covers(a[i].dot) { out.append(a[i]) }
                    i += 1
                } else if i == a.count || b[j].dot < a[i].dot {
                    if !context.covers(b[j].dot) { out.append(b[j]) }
                    j += 1
                } else {
                    out.append(a[i])
                    i += 1; j += 1
                }
            }
            siblings = out
        }
        context.formUnion(other.context)
    }

    /// The merge of two sets (see `sync`).
    public func synced(with other: SiblingSet) -> SiblingSet {
        var s = self
        s.sync(other)
        return s
    }

    /// True when this set has seen every event of `other` (syncing `other` in would change nothing).
    public func descends(_ other: SiblingSet) -> Bool { context.descends(other.context) }

    /// Causal relation of the two sets' histories.
    public func compare(_ other: SiblingSet) -> CausalOrder { context.compare(other.context) }

    /// The last-write-wins winner: the highest timestamp, ties broken by the higher dot (actor id,
    /// then counter) so every replica picks the same one. Concurrent writes other than the winner
    /// are silently lost — that is the documented risk of LWW mode.
    public var lastWriteWinsWinner: Sibling? {
        siblings.max { a, b in a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.dot < b.dot }
    }

    /// This set collapsed to its LWW winner (context unchanged, so the losers stay superseded).
    public func resolvedLastWriteWins() -> SiblingSet {
        guard siblings.count > 1, let w = lastWriteWinsWinner else { return self }
        var s = self
        s.siblings = [w]
        return s
    }

    public var description: String {
        context.description + "[" + siblings.map { $0.dot.description + ($0.isTombstone ? "†" : "") }
            .joined(separator: ",") + "]"
    }

    private mutating func insertSorted(_ s: Sibling) {
        var i = siblings.count
        while i > 0 && s.dot < siblings[i - 1].dot { i -= 1 }
        siblings.insert(s, at: i)
    }
}
