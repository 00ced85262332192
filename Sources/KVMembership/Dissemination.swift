/// Recent updates waiting to be piggybacked: one per member (a newer statement replaces an older),
/// each sent a bounded number of times, least-sent first.
struct DisseminationQueue {
    struct Entry {
        var update: MemberUpdate
        var sent: Int
        var order: UInt64
    }

    private(set) var entries: [String: Entry] = [:]
    private var counter: UInt64 = 0

    var isEmpty: Bool { entries.isEmpty }

    mutating func enqueue(_ update: MemberUpdate) {
        counter &+= 1
        entries[update.member.id] = Entry(update: update, sent: 0, order: counter)
    }

    /// Takes up to `max` updates for one message (least-sent, then newest first); `first` (the buddy
    /// system: the target's own suspicion) goes first if queued. Entries sent `limit` times are dropped.
    mutating func take(max: Int, limit: Int, first: String? = nil) -> [MemberUpdate] {
        guard !entries.isEmpty else { return [] }
        var chosen: [String] = []
        if let first, entries[first] != nil { chosen.append(first) }
        if chosen.count < max {
            let rest = entries.filter { $0.key != first }.sorted {
                $0.value.sent != $1.value.sent ? $0.value.sent < $1.value.sent : $0.value.order > $1.value.order
            }
            for (id, _) in rest.prefix(max - chosen.count) { chosen.append(id) }
        }
        var out: [MemberUpdate] = []
        out.reserveCapacity(chosen.count)
        for id in chosen {
            guard var e = entries[id] else { continue }
            out.append(e.update)
            e.sent += 1
            entries[id] = e.sent >= limit ? nil : e
        }
        return out
    }
}
