/// A version vector: for each actor, the number of its events seen (events `1...n`).
///
/// Entries are kept sorted by actor so equality, encoding and iteration are deterministic (no
/// dictionary order leaks into replicas or the simulator). Vectors are small (a few actors per key).
public struct VersionVector: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// One actor's count.
    public struct Entry: Equatable, Hashable, Sendable {
        public var actor: Actor
        public var counter: UInt64
        public init(actor: Actor, counter: UInt64) {
            self.actor = actor
            self.counter = counter
        }
    }

    /// Entries sorted by actor, every counter > 0.
    public private(set) var entries: [Entry]

    /// The empty vector (a blind write's context).
    public init() { entries = [] }

    /// A vector from entries in any order; duplicates keep the larger counter, zeros are dropped.
    public init(_ entries: [Entry]) {
        var v = VersionVector()
        for e in entries { v.raise(e.actor, to: e.counter) }
        self = v
    }

    /// Builds from already-validated sorted entries (decoder use).
    init(sortedEntries: [Entry]) { entries = sortedEntries }

    public var isEmpty: Bool { entries.isEmpty }

    /// Events of `actor` seen (0 when absent).
    public subscript(actor: Actor) -> UInt64 {
        if let i = index(of: actor) { return entries[i].counter }
        return 0
    }

    /// True when the dot's event is part of this history.
    public func covers(_ dot: Dot) -> Bool { self[dot.actor] >= dot.counter }

    /// Adds a dot (raising the actor's counter to it).
    public mutating func add(_ dot: Dot) { raise(dot.actor, to: dot.counter) }

    /// Raises `actor`'s counter to at least `counter`.
    public mutating func raise(_ actor: Actor, to counter: UInt64) {
        guard counter > 0 else { return }
        switch search(actor) {
        case .found(let i): entries[i].counter = max(entries[i].counter, counter)
        case .insert(let i): entries.insert(Entry(actor: actor, counter: counter), at: i)
        }
    }

    /// Pointwise maximum with `other` (the union of two histories).
    public mutating func formUnion(_ other: VersionVector) {
        if other.entries.isEmpty { return }
        if entries.isEmpty { entries = other.entries; return }
        let a = entries, b = other.entries
        // Usually one side already holds the union (a replica syncing a newer copy, a context merged
        // again): find out without building anything, and then keep or share that side's entries.
        var aCovers = true, bCovers = true
        var i = 0, j = 0
        while (aCovers || bCovers) && (i < a.count || j < b.count) {
            if j == b.count || (i < a.count && a[i].actor < b[j].actor) {
                bCovers = false; i += 1
            } else if i == a.count || b[j].actor < a[i].actor {
                aCovers = false; j += 1
            } else {
                if a[i].counter < b[j].counter { aCovers = false } else if b[j].counter < a[i].counter { bCovers = false }
                i += 1; j += 1
            }
        }
        if aCovers { return }
        if bCovers { entries = b; return }
        var out: [Entry] = []
        out.reserveCapacity(a.count + b.count)
        i = 0; j = 0
        while i < a.count || j < b.count {
            if j == b.count || (i < a.count && a[i].actor < b[j].actor) {
                out.append(a[i]); i += 1
            } else if i == a.count || b[j].actor < a[i].actor {
                out.append(b[j]); j += 1
            } else {
                out.append(Entry(actor: a[i].actor, counter: max(a[i].counter, b[j].counter)))
                i += 1; j += 1
            }
        }
        entries = out
    }

    /// The pointwise maximum of two vectors.
    public func union(_ other: VersionVector) -> VersionVector {
        var v = self
        v.formUnion(other)
        return v
    }

    /// True when every event in `other` is also in `self` (self ≥ other).
    public func descends(_ other: VersionVector) -> Bool {
        for e in other.entries where self[e.actor] < e.counter { return false }
        return true
    }

    /// The causal relation of `self` to `other`.
    public func compare(_ other: VersionVector) -> CausalOrder {
        let ge = descends(other), le = other.descends(self)
        switch (ge, le) {
        case (true, true): return .equal
        case (true, false): return .after
        case (false, true): return .before
        case (false, false): return .concurrent
        }
    }

    public var description: String {
        "{" + entries.map { $0.actor.description + ":" + String($0.counter) }.joined(separator: ",") + "}"
    }

    private enum SearchResult { case found(Int), insert(Int) }

    private func search(_ actor: Actor) -> SearchResult {
        var lo = 0, hi = entries.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let a = entries[mid].actor
            if a == actor { return .found(mid) }
            if a < actor { lo = mid + 1 } else { hi = mid }
        }
        return .insert(lo)
    }

    private func index(of actor: Actor) -> Int? {
        if case .found(let i) = search(actor) { return i }
        return nil
    }
}
