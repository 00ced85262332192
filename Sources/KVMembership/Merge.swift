/// Merging gossiped statements into the local view: the newest incarnation wins, then the
/// strongest status; statements about this node are refuted instead.
extension MembershipInstance {
    mutating func apply(_ update: MemberUpdate, now: UInt64, out: inout [MembershipEffect]) {
        let m = update.member
        if m.id == me.id { return applyAboutSelf(update, out: &out) }
        guard var record = records[m.id] else {
            insert(MemberRecord(member: m), now: now)
            changed(m.id, from: nil, update: update, now: now, out: &out)
            return
        }
        let old = record.member
        if m.status == .suspect && old.status == .suspect && m.incarnation == old.incarnation {
            // An independent confirmation: shrink the timeout and pass it on.
            if record.suspicion?.confirmers.insert(update.source).inserted == true {
                records[m.id] = record
                queue.enqueue(update)
                armSuspicionTimer(m.id, now: now, out: &out)
            }
            return
        }
        guard m.supersedes(old) else { return }
        record.member = m
        if old.address != m.address && m.incarnation == old.incarnation { record.member.address = old.address }
        records[m.id] = record
        changed(m.id, from: old, update: update, now: now, out: &out)
    }

    /// Bookkeeping after `id`'s record took a new statement: suspicion, down time, gossip, change event.
    private mutating func changed(_ id: String, from old: Member?, update: MemberUpdate, now: UInt64,
                                  out: inout [MembershipEffect]) {
        var record = records[id]!
        let m = record.member
        if m.status == .suspect {
            record.suspicion = Suspicion(incarnation: m.incarnation, startedAt: now, confirmers: [update.source])
        } else if record.suspicion != nil {
            record.suspicion = nil
            out.append(.cancelTimer(.suspicion(id)))
        }
        record.downSince = m.status == .down ? now : nil
        records[id] = record
        if m.status == .suspect { armSuspicionTimer(id, now: now, out: &out) }
        queue.enqueue(MemberUpdate(member: m, source: update.source))
        if old == nil || old!.status != m.status || old!.incarnation != m.incarnation {
            out.append(.memberChanged(MembershipChange(member: m, previous: old)))
        }
    }

    private mutating func insert(_ record: MemberRecord, now: UInt64) {
        let id = record.member.id
        records[id] = record
        var lo = 0, hi = sortedIDs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if sortedIDs[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        sortedIDs.insert(id, at: lo)
    }

    /// Someone says something about this node: refute suspicion and death with a higher incarnation;
    /// accept removal of this life; outgrow a newer life we forgot (lost persistence).
    private mutating func applyAboutSelf(_ update: MemberUpdate, out: inout [MembershipEffect]) {
        let m = update.member
        switch m.status {
        case .removed:
            guard m.incarnation >= me.incarnation else { return }
            let previous = me
            me.status = .removed
            out.append(.memberChanged(MembershipChange(member: me, previous: previous)))
            for t in [MembershipTimer.protocolPeriod, .gossip, .sync, .joinRetry] { out.append(.cancelTimer(t)) }
        case .suspect, .down:
            guard m.incarnation >= me.incarnation else { return }
            let previous = me
            me.incarnation = m.incarnation + 1
            adjustHealth(1)  // Lifeguard: being suspected hints that this node is the slow one.
            announceSelf(previous: previous, out: &out)
            // Tell the suspecter at once (it may be the only one counting down).
            if update.source != me.id, let accuser = records[update.source]?.member {
                send(.gossip, to: accuser.address, buddy: me.id, out: &out)
            }
        case .joining, .up, .leaving:
            guard m.incarnation > me.incarnation else { return }
            let previous = me
            me.incarnation = m.incarnation + 1
            announceSelf(previous: previous, out: &out)
        }
    }
}
