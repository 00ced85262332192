import Testing
@testable import KVScenario

@Suite("Scenario files")
struct ScenarioFileTests {
    @Test func parsesAFullScenario() throws {
        let s = try ScenarioFile.parse("""
            name: kill-and-replace
            description: lose n2, replace it
            cluster: { nodes: 5, n: 3, r: 2, w: 2, args: ["--fsync", "everysec"] }
            run: { duration: 1m, warmup: 500ms }
            events:
              - { at: 30s, action: remove-node, node: n2 }
              - { at: 15, action: kill, node: n2 }
              - { at: 30s, action: add-node }
              - { at: 40s, action: pause, node: n3, duration: 5s }
              - { at: 50s, action: hot-key, key: user1, rate: 5000, duration: 5s, connections: 2 }
              - { at: 55s, action: rate, rate: 2000 }
            """)
        #expect(s.name == "kill-and-replace")
        #expect(s.cluster.nodes == 5 && s.cluster.args == ["--fsync", "everysec"])
        #expect(s.duration == 60 && s.warmup == 0.5)
        // Sorted by time; ties keep the file's order.
        #expect(s.events.map(\.action) == [.kill, .removeNode, .addNode, .pause, .hotKey, .rate])
        #expect(s.events[5].rate == 2000)
        #expect(s.events[0].at == 15 && s.events[3].duration == 5 && s.events[4].connections == 2)
        #expect(s.nodeIDs == ["n1", "n2", "n3", "n4", "n5", "n6"])
    }

    @Test func durationsTakeUnits() {
        #expect(ScenarioFile.seconds("20s") == 20)
        #expect(ScenarioFile.seconds("250ms") == 0.25)
        #expect(ScenarioFile.seconds("2m") == 120)
        #expect(ScenarioFile.seconds("7") == 7)
        #expect(ScenarioFile.seconds("7h") == nil)
        #expect(ScenarioFile.seconds("s") == nil)
    }

    @Test(arguments: [
        ("name: x\nevents:\n  - { at: 1s, action: explode, node: n1 }", "unknown action 'explode'"),
        ("name: x\nevents:\n  - { at: 1s, action: partition, node: n1 }", "network namespaces"),
        ("name: x\nevents:\n  - { at: 1s, action: kill, node: n9 }", "unknown node n9"),
        ("name: x\nevents:\n  - { at: 1s, action: kill }", "needs a node"),
        ("name: x\nevents:\n  - { at: 1s, action: add-node, nodes: 2 }", "unknown key 'nodes'"),
        ("name: x\nclustr: { nodes: 3 }", "unknown key 'clustr'"),
        ("name: x\nevents:\n  - { at: soon, action: kill, node: n1 }", "expected a duration"),
        ("name: x\nrun: { duration: 10s }\nevents:\n  - { at: 20s, action: kill, node: n1 }", "after the end of the run"),
        ("name: x\nevents:\n  - { at: 1s, action: resume, node: n1 }", "not paused"),
        ("name: x\nevents:\n  - { at: 1s, action: kill, node: n1 }\n  - { at: 2s, action: kill, node: n1 }", "already killed"),
        ("name: x\nevents:\n  - { at: 1s, action: leave, node: n1 }\n  - { at: 2s, action: pause, node: n1 }", "already left"),
        ("name: x\nevents:\n  - { at: 1s, action: hot-key, key: k, duration: 5s }", "positive rate"),
        ("name: x\ncluster: { nodes: 2, n: 3 }", "cluster.n"),
        ("name: x\nevents:\n  - { at: 1s, action: rate }", "needs a rate"),
        ("name: x\nevents:\n  - { at: 1s, action: rate, rate: 100, node: n1 }", "takes no node"),
        ("events: []", "missing 'name'"),
        // ScenarioFuzz: an overflowing base-60 integer trapped inside Yams; whole numbers are decimal now.
        ("name: edg\ncluster: { nodes: -220000111111111111:1}\n# A \n# A h", "expected a whole number"),
        ("name: x\ncluster: { nodes: 1:30 }", "expected a whole number"),
        ("name: x\ncluster: { nodes: 0x10 }", "expected a whole number"),
        ("name: x\nevents:\n  - { at: 1s, action: hot-key, key: k, rate: 5, connections: 99999999999999999999 }",
         "expected a whole number"),
    ])
    func badFilesAreRejectedWithTheReason(text: String, reason: String) {
        #expect {
            _ = try ScenarioFile.parse(text, source: "t.yaml")
        } throws: { error in
            let d = "\(error)"
            return d.contains(reason) && d.contains("t.yaml")
        }
    }

    @Test func eventsOnAnAddedNodeAreAllowed() throws {
        let s = try ScenarioFile.parse("""
            name: grow-then-kill
            cluster: { nodes: 3 }
            events:
              - { at: 5s, action: add-node }
              - { at: 10s, action: kill, node: n4 }
              - { at: 12s, action: restart, node: n4 }
            """)
        #expect(s.events.count == 3)
    }
}
