import KVChaos
import Testing

@Suite("Chaos fault schedule") struct ChaosScheduleTests {
    @Test func theSameSeedGivesTheSameScheduleAndAnotherSeedAnother() {
        let a = ChaosSchedule.make(seed: 42, rounds: 20, nodes: 5)
        #expect(a == ChaosSchedule.make(seed: 42, rounds: 20, nodes: 5))
        #expect(a != ChaosSchedule.make(seed: 43, rounds: 20, nodes: 5))
    }

    @Test func everyKindComesOnceInEachCycleWithValidNodesAndDurations() {
        let schedule = ChaosSchedule.make(seed: 7, rounds: 24, nodes: 5, seconds: 2...5)
        let kinds = FaultKind.allCases
        for cycle in 0..<3 {
            #expect(Set(schedule[(cycle * kinds.count)..<((cycle + 1) * kinds.count)].map(\.kind)) == Set(kinds))
        }
        for fault in schedule {
            #expect(fault.order.sorted() == [0, 1, 2, 3, 4], "round \(fault.round) names every node once")
            #expect((2...5).contains(fault.seconds))
            #expect(fault.minority.count == 2 && fault.majority.count == 3)
            #expect(Set(fault.minority).isDisjoint(with: fault.majority))
            #expect(fault.kind == .clock ? [3600, 86_400].contains(fault.clockAhead) : fault.clockAhead == 0)
        }
        #expect(schedule.map(\.round) == Array(1...24))
        // The nodes vary between rounds (a shuffle per round, not one fixed order).
        #expect(Set(schedule.map(\.target)).count > 1)
    }

    @Test func unavailableNodesAreTheOnesKilledOrPaused() {
        for fault in ChaosSchedule.make(seed: 3, rounds: 8, nodes: 5) {
            switch fault.kind {
            case .kill, .pause, .clock: #expect(fault.unavailable == [fault.target])
            case .killDuringSplit:
                #expect(fault.unavailable == [fault.order[2]])
                #expect(fault.majority.contains(fault.order[2]), "the node killed during a split is on the majority side")
            case .isolate, .split, .asymmetric, .loss: #expect(fault.unavailable.isEmpty)
            }
        }
    }

    @Test func summariesNameTheNodesAsTheClusterDoes() {
        let fault = PlannedFault(round: 1, kind: .split, order: [2, 4, 0, 1, 3], seconds: 3.25, clockAhead: 0)
        #expect(fault.summary == "split n3,n5 | rest for 3.2 s" || fault.summary == "split n3,n5 | rest for 3.3 s")
        let kill = PlannedFault(round: 2, kind: .killDuringSplit, order: [0, 1, 2, 3, 4], seconds: 2, clockAhead: 0)
        #expect(kill.summary == "split n1,n2 | rest and kill -9 n3 for 2.0 s")
    }
}
