import KVAntiEntropy
import KVCluster
import KVVersioning
import Testing

@Suite struct SessionTests {
    @Test func identicalReplicasExchangeOnlyTheRoots() throws {
        let h = Replicas(count: 2, n: 2)
        for i in 0..<500 {
            let s = h.write("n0", h.key(i), Array("value-\(i)".utf8))
            h.writeEverywhere(h.key(i), s)
        }
        h.sync("n0", "n1")
        let r = try #require(h.initiatorReports.first)
        #expect(h.initiatorReports.count == 1)
        #expect(r.outcome == .inSync)
        #expect(r.messagesSent == 1 && r.messagesReceived == 1)
        #expect(r.treeNodesExchanged == 1 && r.levelsDescended == 0 && r.rangesCompared == 1)
        #expect(r.keysSent == 0 && r.keysReceived == 0)
        #expect(r.bytesExchanged < 64)
    }

    @Test func oneSidedWritesAreCopiedBothWays() throws {
        let h = Replicas(count: 2, n: 2)
        let keys = (0..<300).map(h.key)
        for (i, k) in keys.enumerated() { h.write(i % 2 == 0 ? "n0" : "n1", k, [UInt8(i % 256)]) }
        #expect(h.divergentKeys(keys).count == 300)
        h.sync("n0", "n1")
        #expect(h.divergentKeys(keys).isEmpty)
        let r = try #require(h.initiatorReports.first)
        #expect(r.outcome == .repaired)
        #expect(r.keysSent == 150 && r.keysReceived == 150)
        #expect(h.stores["n0"]!.index.trees == h.stores["n1"]!.index.trees)
        // A second session finds nothing.
        h.reports = []
        h.sync("n1", "n0")
        #expect(h.initiatorReports.map(\.outcome) == [.inSync])
    }

    @Test func staleSideReceivesNewerSetAndNewerSideIsNotSentTheOlder() throws {
        let h = Replicas(count: 2, n: 2)
        let k = h.key(1)
        let base = h.write("n0", k, Array("old".utf8))
        h.writeEverywhere(k, base)
        h.write("n0", k, Array("new".utf8), context: base.context)  // n0 supersedes; n1 stale
        h.sync("n1", "n0")
        #expect(h.set("n1", k) == h.set("n0", k))
        #expect(h.set("n1", k)!.siblings.map(\.value) == [Array("new".utf8)])
        let r = try #require(h.initiatorReports.first)
        // The stale initiator was not asked to send its older set: one set travelled.
        #expect(r.keysReceived == 1 && r.keysSent == 0)
    }

    @Test func tombstonesConvergeAndDoNotResurrect() {
        let h = Replicas(count: 2, n: 2)
        let keys = (0..<50).map(h.key)
        for k in keys { h.writeEverywhere(k, h.write("n0", k, Array("live".utf8))) }
        // n1 deletes half of them during a partition; n0 still holds the values.
        for k in keys.prefix(25) { h.write("n1", k, [], tombstone: true) }
        h.sync("n0", "n1")
        #expect(h.divergentKeys(keys).isEmpty)
        for k in keys.prefix(25) { #expect(h.set("n0", k)!.isDeleted) }
        for k in keys.suffix(25) { #expect(!h.set("n0", k)!.isDeleted) }
        // A reaped tombstone (context only) on one side also converges.
        var reaped = h.set("n0", keys[0])!
        reaped.removeTombstones()
        h.stores["n0"]!.setObject(StoredObject(siblings: reaped), for: keys[0])
        h.sync("n0", "n1")
        h.sync("n0", "n1")
        #expect(h.divergentKeys(keys).isEmpty)
        #expect(h.set("n1", keys[0])!.siblings.isEmpty)
        // A replica that never saw the delete gets the reaped (context-only) set, and its stale
        // value stays superseded instead of coming back.
        let k = keys[30]
        let live = h.write("n0", k, Array("again".utf8))
        h.writeEverywhere(k, live)
        var deleted = live
        deleted.update(clientContext: live.context, actor: Actor(node: "n0", epoch: 1), value: [], isTombstone: true,
                       timestamp: 0)
        deleted.removeTombstones()
        h.stores["n0"]!.setObject(StoredObject(siblings: deleted), for: k)
        h.sync("n1", "n0")
        #expect(h.set("n1", k) == deleted && h.set("n0", k) == deleted)
    }

    @Test func concurrentSiblingsOnBothSidesConvergeToTheMergedSet() {
        let h = Replicas(count: 2, n: 2)
        let keys = (0..<40).map(h.key)
        var expected: [[UInt8]: SiblingSet] = [:]
        for k in keys {
            let base = h.write("n0", k, Array("base".utf8))
            h.writeEverywhere(k, base)
            let a = h.write("n0", k, Array("left".utf8), context: base.context)
            let b = h.write("n1", k, Array("right".utf8), context: base.context)
            expected[k] = a.synced(with: b)
        }
        h.sync("n1", "n0")
        for k in keys {
            #expect(h.set("n0", k) == expected[k])
            #expect(h.set("n1", k) == expected[k])
            #expect(h.set("n0", k)!.siblings.count == 2)
        }
    }

    @Test func garbageFramesAreRejectedAndOutOfStageMessagesAbort() {
        let h = Replicas(count: 2, n: 2)
        var rng = Rng(seed: 1)
        for _ in 0..<2000 {
            let bytes = (0..<rng.below(80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            h.event("n1", .received(from: "n0", bytes: bytes))
        }
        #expect(h.rejected == 2000)
        #expect(h.queue.isEmpty && h.nodes["n1"]!.activeSessionCount == 0)

        // A well-formed message for a session in the wrong stage: the session aborts, nothing merges.
        h.write("n0", h.key(1), [1])
        let range = h.nodes["n0"]!.index.ranges.ranges[0].id
        h.event("n0", .start(range: range, peer: "n1"))
        let begin = h.queue.removeFirst()
        h.event("n1", .received(from: "n0", bytes: begin.bytes))  // n1 answers with level-1 digests
        h.queue.removeAll()
        let session = try! AntiEntropyCoding.decode(begin.bytes).session
        let bogus = AntiEntropyMessage(session: session, fromInitiator: true,
                                       body: .objects(sets: [], want: [], isLast: true, more: false))
        h.event("n1", .received(from: "n0", bytes: AntiEntropyCoding.encode(bogus)))
        #expect(h.reports.last?.outcome == .aborted(.protocolError))
        #expect(h.nodes["n1"]!.activeSessionCount == 0)
        // Digests of the wrong size abort too.
        h.event("n0", .start(range: range, peer: "n1"))
        let second = h.queue.removeFirst()
        let s2 = try! AntiEntropyCoding.decode(second.bytes).session
        h.event("n1", .received(from: "n0", bytes: second.bytes))
        h.queue.removeAll()
        let wrongSize = AntiEntropyMessage(session: s2, fromInitiator: false,
                                           body: .digests(level: 1, parents: [0], digests: [1, 2, 3]))
        h.event("n0", .received(from: "n1", bytes: AntiEntropyCoding.encode(wrongSize)))
        #expect(h.reports.last?.outcome == .aborted(.protocolError))
        #expect(h.reports.last?.isInitiator == true)
    }

    @Test func unknownRangeAndShapeMismatchAbort() {
        let h = Replicas(count: 2, n: 2)
        let begin = AntiEntropyMessage(session: 5, fromInitiator: true,
                                       body: .begin(range: RangeID(raw: 12345), shape: .standard, root: 1))
        h.event("n1", .received(from: "n0", bytes: AntiEntropyCoding.encode(begin)))
        #expect(h.reports.last?.outcome == .aborted(.unknownRange))
        let range = h.nodes["n1"]!.index.ranges.ranges[0].id
        let other = AntiEntropyMessage(session: 6, fromInitiator: true,
                                       body: .begin(range: range, shape: MerkleShape(fanoutBits: 2, depth: 2)!, root: 1))
        h.event("n1", .received(from: "n0", bytes: AntiEntropyCoding.encode(other)))
        #expect(h.reports.last?.outcome == .aborted(.shapeMismatch))
        #expect(h.nodes["n1"]!.totals.rangesCompared == 0 && h.nodes["n1"]!.totals.aborted == 2)
        let abort = try! AntiEntropyCoding.decode(h.queue.last!.bytes)
        #expect(abort.body == .abort(.shapeMismatch) && abort.session == 6 && !abort.fromInitiator)
    }

    @Test func objectBatchesAreCappedAndTheRestFollowsInLaterSessions() {
        var config = Replicas.unlimited
        config.maxObjectBytesPerMessage = 1000
        let h = Replicas(count: 2, n: 2, config: config)
        let keys = (0..<40).map(h.key)
        for k in keys { h.write("n0", k, [UInt8](repeating: 7, count: 200)) }
        for k in keys.prefix(20) { h.write("n1", k, [UInt8](repeating: 8, count: 200), context: VersionVector()) }
        h.event("n0", .repairAll)
        h.pump()
        for _ in 0..<100 where h.nodes["n0"]!.queuedSessionCount > 0 { h.event("n0", .tick); h.pump() }
        #expect(h.divergentKeys(keys).isEmpty)
        let first = h.reports.first { $0.isInitiator }!
        #expect(first.truncated && first.keysSent + first.keysReceived < 40)
        #expect(h.reports.allSatisfy { $0.differingObjectBytes <= 2 * (1000 + 300) })
    }

    @Test func respondersRefuseSessionsBeyondTheirLimit() {
        var config = Replicas.unlimited
        config.maxResponderSessions = 2
        let h = Replicas(count: 2, n: 2, config: config)
        h.write("n0", h.key(1), [1])
        let range = h.nodes["n0"]!.index.ranges.ranges[0].id
        for id in UInt64(1)...3 {
            let begin = AntiEntropyMessage(session: id, fromInitiator: true, body: .begin(range: range, shape: .standard, root: 42))
            h.event("n1", .received(from: "n0", bytes: AntiEntropyCoding.encode(begin)))
        }
        #expect(h.nodes["n1"]!.activeSessionCount == 2)
        #expect(h.reports.map(\.outcome) == [.aborted(.busy)])
    }

    @Test func sessionsTimeOutAndPeerDownAborts() {
        var config = Replicas.unlimited
        config.sessionTimeout = 100
        let h = Replicas(count: 2, n: 2, config: config)
        h.write("n0", h.key(1), [1])
        let range = h.nodes["n0"]!.index.ranges.ranges[0].id
        h.event("n0", .start(range: range, peer: "n1"))
        h.queue.removeAll()  // lost
        h.now = 50
        h.event("n0", .tick)
        #expect(h.nodes["n0"]!.activeSessionCount == 1)
        h.now = 100
        h.event("n0", .tick)
        #expect(h.reports.contains { $0.outcome == .aborted(.timedOut) })
        h.queue.removeAll()
        h.event("n0", .start(range: range, peer: "n1"))
        h.event("n0", .peerDown("n1"))
        #expect(h.reports.last?.outcome == .aborted(.peerDown))
        #expect(h.nodes["n0"]!.activeSessionCount == 0)
    }

    @Test func periodicRoundsAreRateLimited() {
        var config = AntiEntropyConfig()
        config.interval = 1000
        config.bytesPerSecond = 1000
        config.burstBytes = 1
        let h = Replicas(count: 4, n: 3, config: config)
        for i in 0..<200 { h.write(h.ids[i % 4], h.key(i), [UInt8(i)]) }
        // n0 initiates toward every peer sorting after it, one session at a time, each only once
        // the byte budget is back out of debt.
        h.event("n0", .tick)
        #expect(h.nodes["n0"]!.activeSessionCount == 1)
        let queued = h.nodes["n0"]!.queuedSessionCount
        #expect(queued >= 1)
        h.pump()
        let spent = h.initiatorReports.reduce(0) { $0 + $1.bytesSent }
        #expect(spent > 1)
        h.event("n0", .tick)  // same instant: still in debt
        #expect(h.nodes["n0"]!.activeSessionCount == 0 && h.nodes["n0"]!.queuedSessionCount == queued)
        h.now += Tick(spent) + 1  // 1000 B/s at 1000 ticks/s: one byte per tick
        h.event("n0", .tick)
        #expect(h.nodes["n0"]!.queuedSessionCount == queued - 1)
    }

    @Test func tokenBucketRefillsAtItsRate() {
        var b = TokenBucket(bytesPerSecond: 1000, burst: 500, ticksPerSecond: 1000)
        var ok = b.allows(now: 0)
        #expect(ok)
        b.charge(2000, now: 0)
        ok = b.allows(now: 0)
        #expect(b.level == -1500 && !ok)
        #expect(b.ticksUntilAllowed() == 1500)
        ok = b.allows(now: 1499)
        #expect(!ok)
        ok = b.allows(now: 1500)
        #expect(ok)
        ok = b.allows(now: 100_000)
        #expect(ok && b.level == 500)  // capped at the burst
        var slow = TokenBucket(bytesPerSecond: 1, burst: 10, ticksPerSecond: 1000)
        slow.charge(11, now: 0)
        for t in stride(from: Tick(0), to: 1000, by: 10) { _ = slow.allows(now: t) }
        #expect(slow.level == -1)  // fractions of a byte are not lost between calls
        ok = slow.allows(now: 1000)
        #expect(ok && slow.level == 0)
    }
}
