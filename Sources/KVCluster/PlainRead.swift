import KVVersioning

/// What plain Redis `GET` answers for a coordinated read's set (the shell maps it to RESP).
public enum PlainReadResult: Equatable, Sendable {
    /// Exactly one live version (or the LWW winner).
    case value([UInt8])
    /// Never written, or deleted (only tombstones stand; in LWW mode: the winner is a tombstone).
    case notFound
    /// Several concurrent live versions and the node is not in LWW mode: an error telling the client
    /// to use `KV.GET` (suggested RESP text: `-SIBLINGS key has <count> concurrent values; use KV.GET`).
    case siblings(count: Int)

    /// Resolves a read for plain `GET`. In LWW mode the deterministic winner (highest timestamp, then
    /// highest dot) is returned, tombstones included in the contest.
    public init(_ set: SiblingSet, lastWriteWins: Bool) {
        if lastWriteWins {
            guard let w = set.lastWriteWinsWinner, !w.isTombstone else { self = .notFound; return }
            self = .value(w.value)
            return
        }
        let live = set.liveSiblings
        switch live.count {
        case 0: self = .notFound
        case 1: self = .value(live[0].value)
        default: self = .siblings(count: live.count)
        }
    }
}
