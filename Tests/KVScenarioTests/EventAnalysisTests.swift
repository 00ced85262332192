import Testing
@testable import KVScenario

@Suite("Scenario event analysis")
struct EventAnalysisTests {
    /// 30 s of load at 1000 ops/s; errors and a slower p99 in seconds 10-12 (a kill at 10.2 s).
    func load() -> LoadSeries {
        var ops = Array(repeating: 1000, count: 30), errors = Array(repeating: 0, count: 30)
        ops[10] = 400; ops[11] = 700
        errors[10] = 25; errors[11] = 5
        return LoadSeries(operations: ops, errors: errors) { from, to in
            // p99 is 5000 µs when the window includes second 10, else 1000.
            (from...max(from, to - 1)).contains(10) ? (5000, 9000, 1) : (1000, 2000, 1)
        }
    }

    func sample(_ t: Double, down n2: Bool, n2Reachable: Bool = false) -> ClusterSample {
        var nodes: [NodeSample] = []
        for id in ["n1", "n2", "n3"] {
            var s = NodeSample(node: id, reachable: id != "n2" || n2Reachable)
            s.view = ["n1": "up", "n2": n2 ? "down" : "up", "n3": "up"]
            s.ringMembers = 3
            s.keys = 100
            nodes.append(s)
        }
        return ClusterSample(time: t, nodes: nodes)
    }

    @Test func aKillIsDetectedRecoveredAndPriced() {
        let samples = [sample(9.5, down: false, n2Reachable: true), sample(10.5, down: false), sample(11.0, down: false),
                       sample(12.7, down: true)]
        let kill = ExecutedEvent(event: ScenarioEvent(at: 10, action: .kill, node: "n2"), time: 10.2, node: "n2")
        let r = EventAnalysis.reports(events: [kill], load: load(), samples: samples, runSeconds: 30)[0]
        #expect(abs(r.detectSeconds! - 2.5) < 1e-9)
        #expect(r.errors == 30)
        // Healthy again from second 12 (no errors, >= 80 % of 1000 ops/s for three seconds).
        #expect(abs(r.recoverSeconds! - 1.8) < 1e-9)
        #expect(r.p99Before == 1000 && r.p99After == 5000 && r.p999After == 9000)
        #expect(r.throughputBefore == 1000)
        #expect(r.keysMoved == nil)
    }

    @Test func neverSeenStaysNil() {
        let kill = ExecutedEvent(event: ScenarioEvent(at: 10, action: .kill, node: "n2"), time: 10.2, node: "n2")
        let r = EventAnalysis.reports(events: [kill], load: load(), samples: [sample(11, down: false)], runSeconds: 30)[0]
        #expect(r.detectSeconds == nil)
    }

    @Test func errorsAreCountedUntilTheNextEvent() {
        let a = ExecutedEvent(event: ScenarioEvent(at: 10, action: .pause, node: "n2"), time: 10, node: "n2")
        let b = ExecutedEvent(event: ScenarioEvent(at: 11, action: .resume, node: "n2"), time: 11, node: "n2")
        let rs = EventAnalysis.reports(events: [a, b], load: load(), samples: [], runSeconds: 30)
        #expect(rs[0].errors == 25 && rs[1].errors == 5)
        // The second event's before-window starts at the first event.
        #expect(rs[1].p99Before == 5000)
    }

    @Test func anAddedNodeIsPricedAgainstTheIdealMove() {
        func grown(_ t: Double, ring: Int, rebalancing: Bool, received: Int, withN4: Bool) -> ClusterSample {
            var nodes: [NodeSample] = []
            for id in ["n1", "n2", "n3"] + (withN4 ? ["n4"] : []) {
                var s = NodeSample(node: id, reachable: true)
                s.ringMembers = ring
                s.keys = id == "n4" ? received : 300
                s.rebalancing = rebalancing
                s.rebalanceKeysReceived = id == "n4" ? received : 0
                s.rebalanceBytesReceived = id == "n4" ? received * 100 : 0
                nodes.append(s)
            }
            return ClusterSample(time: t, nodes: nodes)
        }
        let samples = [grown(9, ring: 3, rebalancing: false, received: 0, withN4: false),
                       grown(11, ring: 4, rebalancing: true, received: 100, withN4: true),
                       grown(14, ring: 4, rebalancing: false, received: 230, withN4: true)]
        let add = ExecutedEvent(event: ScenarioEvent(at: 10, action: .addNode), time: 10, node: "n4")
        let r = EventAnalysis.reports(events: [add], load: load(), samples: samples, runSeconds: 30)[0]
        #expect(r.detectSeconds == 1)
        #expect(r.balancedSeconds == 4)
        #expect(r.copiesBefore == 900 && r.idealKeysMoved == 225)
        #expect(r.keysMoved == 230 && r.bytesMoved == 23_000)
        #expect(abs(r.movedFraction! - 230.0 / 900) < 1e-12)
    }
}

@Suite("Scenario event analysis: removals")
struct RemovalAnalysisTests {
    @Test func aRemovedDeadNodeIsPricedByWhatItHeldWhenLastSeen() {
        func s(_ t: Double, n2: Bool, ring: Int, rebalancing: Bool, received: Int) -> ClusterSample {
            ClusterSample(time: t, nodes: ["n1", "n2", "n3", "n4"].map { id in
                var x = NodeSample(node: id, reachable: id != "n2" || n2)
                guard x.reachable else { return x }
                x.ringMembers = ring
                x.keys = 300
                x.rebalancing = rebalancing
                x.rebalanceKeysReceived = id == "n2" ? 0 : received
                x.view = ["n2": n2 ? "up" : "down"]
                return x
            })
        }
        // n2 held 300 copies when last seen at 4 s; killed at 5 s, removed at 10 s.
        let samples = [s(4, n2: true, ring: 4, rebalancing: false, received: 0), s(9, n2: false, ring: 4, rebalancing: false, received: 0),
                       s(11, n2: false, ring: 3, rebalancing: true, received: 50), s(13, n2: false, ring: 3, rebalancing: false, received: 100)]
        let load = LoadSeries(operations: Array(repeating: 100, count: 20), errors: Array(repeating: 0, count: 20)) { _, _ in (1000, 2000, 1) }
        let remove = ExecutedEvent(event: ScenarioEvent(at: 10, action: .removeNode, node: "n2"), time: 10, node: "n2")
        let r = EventAnalysis.reports(events: [remove], load: load, samples: samples, runSeconds: 20)[0]
        #expect(r.idealKeysMoved == 300)
        #expect(r.copiesBefore == 900)
        #expect(r.detectSeconds == 1)
        #expect(r.balancedSeconds == 3)
        #expect(r.keysMoved == 300)  // 100 received by each of the three survivors
        #expect(r.recoverSeconds == 0)
    }
}
