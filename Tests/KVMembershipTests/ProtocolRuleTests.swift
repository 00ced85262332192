import KVMembership
import Testing

@Suite struct ProtocolRuleTests {
    /// Probes `a`'s next target: returns the target id and the probe seq.
    static func probe(_ a: inout MembershipInstance, now: UInt64 = 1_000) throws -> (target: String, seq: UInt64, effects: [MembershipEffect]) {
        let effects = a.handle(.timer(.protocolPeriod), now: now)
        let ping = try #require(effects.sends.first)
        guard case .ping(let seq) = ping.message.body else { throw ProbeError.notAPing }
        #expect(effects.timer(.probeTimeout(seq)) == 500)
        #expect(effects.timer(.protocolPeriod) == 1_000)
        return (String(ping.to.prefix { $0 != ":" }), seq, effects)
    }

    enum ProbeError: Error { case notAPing }

    @Test func aProbeAckedInTimeNeedsNoHelp() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c")])
        let (target, seq, _) = try Self.probe(&a)
        let acked = a.handle(message(from: target, .ack(seq: seq)), now: 1_010)
        #expect(acked.contains(.cancelTimer(.probeTimeout(seq))))
        let late = a.handle(.timer(.probeTimeout(seq)), now: 1_500)
        #expect(late.sends.isEmpty)
        #expect(a.member(target)?.status == .up)
    }

    @Test func aMissedAckGoesIndirectThenSuspects() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c"), up("d"), up("e")])
        let (target, seq, _) = try Self.probe(&a)
        let indirect = a.handle(.timer(.probeTimeout(seq)), now: 1_500)
        let requests = indirect.sends.filter {
            if case .pingRequest(seq, target, _) = $0.message.body { true } else { false }
        }
        #expect(requests.count == 3)  // k = 3 helpers, never the target itself
        #expect(!requests.contains { $0.to.hasPrefix(target) })
        #expect(a.member(target)?.status == .up)
        let failed = a.handle(.timer(.indirectTimeout(seq)), now: 1_950)
        #expect(a.member(target)?.status == .suspect)
        #expect(failed.changes.contains { $0.member.id == target && $0.member.status == .suspect })
        #expect(failed.timer(.suspicion(target)) == 3_000)  // no confirmation yet: the maximum
        // No nack came from the 3 helpers: Lifeguard blames this node's own links.
        #expect(a.localHealth == 3)
    }

    @Test func aProbeOfAnOlderLifeDoesNotSuspectTheNewOne() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c")])
        let (target, seq, _) = try Self.probe(&a)
        _ = a.handle(.timer(.probeTimeout(seq)), now: 1_500)
        // The target restarted meanwhile (its old process never answers).
        _ = a.handle(message(from: target, .join(member(target, 2, .joining))), now: 1_600)
        _ = a.handle(.timer(.indirectTimeout(seq)), now: 1_950)
        #expect(a.member(target) == member(target, 2, .joining))
    }

    @Test func anAckRelayedByAHelperCounts() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c")])
        let (target, seq, _) = try Self.probe(&a)
        _ = a.handle(.timer(.probeTimeout(seq)), now: 1_500)
        let helper = target == "b" ? "c" : "b"
        _ = a.handle(message(from: helper, .ack(seq: seq)), now: 1_600)
        _ = a.handle(.timer(.indirectTimeout(seq)), now: 1_950)
        #expect(a.member(target)?.status == .up)
    }

    @Test func probesOfASuspectCarryItsSuspicion() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c")])
        _ = a.handle(message(from: "c", .gossip, gossip: [MemberUpdate(member: member("b", 1, .suspect), source: "c")]), now: 0)
        // Long after the rumour left the dissemination queue, pings to b still tell b first.
        for t in 1...40 { _ = a.handle(.timer(.gossip), now: UInt64(t) * 10) }
        #expect(a.pendingUpdates == 0)
        let effects = a.handle(.timer(.protocolPeriod), now: 1_000)
        let ping = try #require(effects.sends.first)
        #expect(ping.to == "b:7946")  // an unconfirmed suspect is probed first
        #expect(ping.message.gossip.first?.member == member("b", 1, .suspect))
    }

    @Test func aHelperRelaysTheAckOrSendsANack() throws {
        var b = makeNode("b")
        teach(&b, [up("a"), up("c")])
        let asked = b.handle(message(from: "a", .pingRequest(seq: 77, targetID: "c", targetAddress: "c:7946")), now: 0)
        let ping = try #require(asked.sends.first { $0.to == "c:7946" })
        guard case .ping(let mySeq) = ping.message.body else { Issue.record("not a ping"); return }
        let relayed = b.handle(message(from: "c", .ack(seq: mySeq)), now: 5)
        #expect(relayed.sends.contains { $0.to == "a:7946" && $0.message.body == .ack(seq: 77) })

        let again = b.handle(message(from: "a", .pingRequest(seq: 78, targetID: "c", targetAddress: "c:7946")), now: 10)
        guard case .ping(let seq2) = again.sends.first!.message.body else { Issue.record("not a ping"); return }
        let silent = b.handle(.timer(.helperTimeout(seq2)), now: 410)
        #expect(silent.sends.contains { $0.to == "a:7946" && $0.message.body == .nack(seq: 78) })
    }

    @Test func nacksFromHelpersSpareTheLocalHealth() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c"), up("d")])
        let (target, seq, _) = try Self.probe(&a)
        let indirect = a.handle(.timer(.probeTimeout(seq)), now: 1_500)
        for s in indirect.sends { _ = a.handle(.message(from: s.to, MembershipMessage(senderID: "x", senderIncarnation: 1, body: .nack(seq: seq))), now: 1_900) }
        _ = a.handle(.timer(.indirectTimeout(seq)), now: 1_950)
        #expect(a.member(target)?.status == .suspect)
        #expect(a.localHealth == 0)
    }

    @Test func aSuspectedNodeRefutesWithAHigherIncarnation() throws {
        var a = makeNode()
        teach(&a, [up("b"), up("c")])
        let rumour = MemberUpdate(member: member("a", 1, .suspect), source: "b")
        let effects = a.handle(message(from: "c", .gossip, gossip: [rumour]), now: 10)
        #expect(a.me.incarnation == 2 && a.me.status == .up)
        #expect(effects.contains(.persistIncarnation(2)))
        #expect(a.localHealth == 1)
        // The accuser hears the refutation at once.
        let toAccuser = try #require(effects.sends.first { $0.to == "b:7946" })
        #expect(toAccuser.message.gossip.first?.member == member("a", 2, .up))

        // An observer holding the suspicion clears it when the refutation arrives.
        var c = makeNode("c")
        teach(&c, [up("a"), up("b")])
        _ = c.handle(message(from: "b", .gossip, gossip: [rumour]), now: 10)
        #expect(c.member("a")?.status == .suspect)
        let cleared = c.handle(message(from: "a", .gossip, gossip: [MemberUpdate(member: member("a", 2, .up), source: "a")]), now: 20)
        #expect(c.member("a") == member("a", 2, .up))
        #expect(cleared.contains(.cancelTimer(.suspicion("a"))))
    }

    @Test func independentConfirmationsShrinkTheSuspicionTimeout() {
        var c = makeNode("c")
        teach(&c, [up("a"), up("b"), up("d"), up("e"), up("f")])
        func suspect(by source: String, at now: UInt64) -> [MembershipEffect] {
            c.handle(message(from: source, .gossip, gossip: [MemberUpdate(member: member("a", 1, .suspect), source: source)]), now: now)
        }
        _ = suspect(by: "b", at: 0)
        let first = c.suspicionTimeout(of: "a")!
        let second = suspect(by: "d", at: 100)
        let t2 = c.suspicionTimeout(of: "a")!
        _ = suspect(by: "d", at: 150)  // the same source again is no new evidence
        #expect(c.suspicionTimeout(of: "a") == t2)
        _ = suspect(by: "e", at: 200)
        let t3 = c.suspicionTimeout(of: "a")!
        _ = suspect(by: "f", at: 300)
        let t4 = c.suspicionTimeout(of: "a")!
        #expect(first == 3_000 && first > t2 && t2 > t3 && t3 > t4 && t4 == 1_500)
        #expect(second.timer(.suspicion("a")) == t2 - 100)  // the timer is re-armed for what is left

        let config = MembershipConfig()
        #expect(MembershipInstance.suspicionTimeout(confirmations: 0, others: 10, config: config) == 3_000)
        #expect(MembershipInstance.suspicionTimeout(confirmations: 1, others: 10, config: config) == 2_250)
        #expect(MembershipInstance.suspicionTimeout(confirmations: 3, others: 10, config: config) == 1_500)
        #expect(MembershipInstance.suspicionTimeout(confirmations: 1, others: 1, config: config) == 1_500)
        #expect(MembershipInstance.suspicionTimeout(confirmations: 0, others: 0, config: config) == 1_500)
    }

    @Test func anUnrefutedSuspicionEndsDownNotRemoved() {
        var c = makeNode("c")
        teach(&c, [up("a"), up("b")])
        _ = c.handle(message(from: "b", .gossip, gossip: [MemberUpdate(member: member("a", 1, .suspect), source: "b")]), now: 0)
        let timeout = c.suspicionTimeout(of: "a")!
        _ = c.handle(.timer(.suspicion("a")), now: timeout - 1)
        #expect(c.member("a")?.status == .suspect)
        let dead = c.handle(.timer(.suspicion("a")), now: timeout)
        #expect(c.member("a") == member("a", 1, .down))
        #expect(dead.changes.map(\.member.status) == [.down])
        for t in stride(from: timeout, through: timeout + 600_000, by: 1_000) {
            _ = c.handle(.timer(.protocolPeriod), now: t)
        }
        #expect(c.member("a")?.status == .down)
    }

    @Test func theAutoRemovePolicyRemovesLongDownMembers() {
        var config = MembershipConfig()
        config.autoRemoveDownAfter = 60_000
        var c = makeNode("c", config: config)
        teach(&c, [up("b"), member("a", 1, .down)], now: 0)
        _ = c.handle(.timer(.protocolPeriod), now: 59_999)
        #expect(c.member("a")?.status == .down)
        let removed = c.handle(.timer(.protocolPeriod), now: 60_000)
        #expect(c.member("a")?.status == .removed)
        #expect(removed.changes.contains { $0.member.id == "a" && $0.member.status == .removed })
    }

    @Test func oldIncarnationRumoursAreIgnored() {
        var c = makeNode("c")
        teach(&c, [up("b"), up("a", 5)])
        for status in MemberStatus.allCases {
            let effects = c.handle(message(from: "b", .gossip, gossip: [MemberUpdate(member: member("a", 4, status), source: "b")]), now: 1)
            #expect(effects.changes.isEmpty)
        }
        #expect(c.member("a") == up("a", 5))
        // Rumours about this node's own older life are ignored too.
        let own = c.handle(message(from: "b", .gossip, gossip: [MemberUpdate(member: member("c", 0, .down), source: "b")]), now: 2)
        #expect(own.changes.isEmpty && c.me.incarnation == 1)
        // A restart (higher incarnation) replaces a down member: the shell is told it came back.
        _ = c.handle(message(from: "b", .gossip, gossip: [MemberUpdate(member: member("a", 5, .down), source: "b")]), now: 3)
        let back = c.handle(message(from: "a", .join(member("a", 6, .joining))), now: 4)
        let change = back.changes.first { $0.member.id == "a" }
        #expect(change?.member == member("a", 6, .joining) && change?.isRestart == true)
        #expect(back.sends.contains { if case .sync(_, true) = $0.message.body { $0.to == "a:7946" } else { false } })
    }

    @Test func statusPrecedenceAtOneIncarnation() {
        #expect(member("a", 1, .suspect).supersedes(member("a", 1, .up)))
        #expect(member("a", 1, .down).supersedes(member("a", 1, .suspect)))
        #expect(!member("a", 1, .up).supersedes(member("a", 1, .suspect)))
        #expect(member("a", 2, .up).supersedes(member("a", 1, .down)))
        #expect(member("a", 1, .removed).supersedes(member("a", 1, .leaving)))
        #expect(!member("a", 1, .up).supersedes(member("a", 1, .up)))
    }

    @Test func aSeedAdmitsAJoinerThatThenIsUp() throws {
        var joiner = MembershipInstance(id: "j", address: "j:7946", incarnation: 1, seed: 9)
        _ = joiner.handle(.start, now: 0)
        let first = joiner.handle(.join(seeds: ["j:7946", "s1:7946", "s2:7946"]), now: 0)
        #expect(first.sends.map(\.to) == ["s1:7946"])
        #expect(joiner.me.status == .joining)
        // s1 does not answer: the retry goes to the next seed.
        let retry = joiner.handle(.timer(.joinRetry), now: 1_000)
        #expect(retry.sends.map(\.to) == ["s2:7946"])
        var seed = makeNode("s2")
        let joinMessage = try #require(retry.sends.first?.message)
        let answered = seed.handle(.message(from: "j:7946", joinMessage), now: 1_001)
        #expect(seed.member("j")?.status == .joining)
        let reply = try #require(answered.sends.first { $0.to == "j:7946" })
        let done = joiner.handle(.message(from: "s2:7946", reply.message), now: 1_002)
        #expect(joiner.me.status == .up && joiner.member("s2")?.status == .up)
        #expect(done.contains(.cancelTimer(.joinRetry)))
    }

    @Test func fullSyncRepairsAMissedUpdate() throws {
        var a = makeNode("a"), c = makeNode("c")
        teach(&a, [up("b"), up("c")])
        teach(&c, [up("a"), up("b"), up("e")])
        _ = c.handle(message(from: "e", .gossip, gossip: [MemberUpdate(member: member("b", 1, .down), source: "e")]), now: 0)
        // Whatever gossip a missed, the push-pull brings it over (and a learns of e).
        var pushes = a.handle(.timer(.sync), now: 5_000).sends
        while pushes.first?.to != "c:7946" { pushes = a.handle(.timer(.sync), now: 5_000).sends }
        let answer = c.handle(.message(from: "a:7946", pushes[0].message), now: 5_001)
        let reply = try #require(answer.sends.first { $0.to == "a:7946" })
        _ = a.handle(.message(from: "c:7946", reply.message), now: 5_002)
        #expect(a.member("b") == member("b", 1, .down))
        #expect(a.member("e") == up("e"))
        #expect(a.members.map(\.id) == ["a", "b", "c", "e"])
    }

    @Test func anOperatorRemovalAndALeaveSpreadByGossip() {
        var net = TestNet(ids: ["a", "b", "c", "d", "e"])
        net.run(for: 3_000)
        for o in ["b", "c", "d", "e"] { #expect(net.status(of: "a", at: o) == .up) }

        net.kill("e")
        net.run(for: 8_000)
        for o in ["a", "b", "c", "d"] { #expect(net.status(of: "e", at: o) == .down) }
        net.run(for: 60_000)
        for o in ["a", "b", "c", "d"] { #expect(net.status(of: "e", at: o) == .down) }  // never removed by itself
        net.feed(TestNet.address("b"), .operatorRemove("e"))
        net.run(for: 1_000)
        for o in ["a", "b", "c", "d"] { #expect(net.status(of: "e", at: o) == .removed) }

        net.feed(TestNet.address("d"), .leave)
        net.run(for: 1_000)
        for o in ["a", "b", "c"] { #expect(net.status(of: "d", at: o) == .leaving) }
        net.kill("d")
        net.run(for: 5_000)
        for o in ["a", "b", "c"] { #expect(net.status(of: "d", at: o) == .removed) }
        #expect(!net.changes.contains { $0.1.member.id == "d" && $0.1.member.status == .down })
    }

    @Test func aNodeDeclaredDownComesBackUpByItself() {
        var net = TestNet(ids: ["a", "b", "c", "d"])
        net.run(for: 3_000)
        net.cut.insert(TestNet.address("c"))  // unreachable well past the suspicion timeout
        net.run(for: 10_000)
        for o in ["a", "b", "d"] { #expect(net.status(of: "c", at: o) == .down) }
        net.cut.removeAll()
        net.run(for: 15_000)  // push-pull with down members finds it; it refutes with a new incarnation
        let c = net.node("c").me
        #expect(c.status == .up && c.incarnation > 1)
        for o in ["a", "b", "d"] {
            #expect(net.node(o).member("c") == c)
            #expect(net.node("c").member(o)?.status == .up)
        }
    }

    @Test func aRemovedNodeStopsWhenItHearsSo() {
        var a = makeNode()
        teach(&a, [up("b")])
        let effects = a.handle(message(from: "b", .gossip, gossip: [MemberUpdate(member: member("a", 1, .removed), source: "b")]), now: 0)
        #expect(a.me.status == .removed)
        #expect(effects.contains(.cancelTimer(.protocolPeriod)))
        #expect(a.handle(.timer(.protocolPeriod), now: 1_000).isEmpty)
    }

    @Test func invalidConfigurationsAreRefused() {
        var c = MembershipConfig()
        #expect(throws: Never.self) { try c.validate() }
        c.probeTimeout = c.probeInterval
        #expect(throws: MembershipConfigError.self) { try c.validate() }
        c = MembershipConfig()
        c.suspicionMinTimeout = c.suspicionMaxTimeout + 1
        #expect(throws: MembershipConfigError.self) { try c.validate() }
    }
}
