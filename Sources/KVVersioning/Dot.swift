/// The identity that stamps new versions of a key: a node plus an epoch.
///
/// A node takes a fresh epoch whenever it stamps a key it holds no object for (first write, or a
/// hinted copy it dropped after handoff). Counters under one actor are then always stamped on one
/// continuously held object, so a counter `n` in a context truly implies every earlier event `1...n`
/// of that actor for that key (the invariant dotted version vectors rely on).
public struct Actor: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The node's stable id.
    public var node: String
    /// Which stamping lifetime of this node on this key.
    public var epoch: UInt32

    public init(node: String, epoch: UInt32) {
        self.node = node
        self.epoch = epoch
    }

    public static func < (a: Actor, b: Actor) -> Bool {
        a.node != b.node ? a.node < b.node : a.epoch < b.epoch
    }

    public var description: String { node + "." + String(epoch) }
}

/// One event: the `counter`-th write an actor stamped on a key. Every sibling carries the dot of
/// the write that created it, which is what lets replicas drop duplicates instead of multiplying
/// siblings (the "sibling explosion" of plain vector clocks).
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var actor: Actor
    public var counter: UInt64

    public init(actor: Actor, counter: UInt64) {
        self.actor = actor
        self.counter = counter
    }

    public static func < (a: Dot, b: Dot) -> Bool {
        a.actor != b.actor ? a.actor < b.actor : a.counter < b.counter
    }

    public var description: String { actor.description + ":" + String(counter) }
}

/// How two causal histories relate.
public enum CausalOrder: Sendable, Equatable {
    case equal
    /// The left side happened before the right (the right descends from it).
    case before
    /// The left side descends from the right.
    case after
    case concurrent
}
