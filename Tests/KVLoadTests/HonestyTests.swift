import KVLoad
import KVWorkload
import Testing

@Suite("Coordinated omission")
struct HonestyTests {
    let oneSecond: UInt64 = 1_000_000_000
    let service: UInt64 = 100_000

    func run(target: Double) throws -> RunResult {
        let clock = ManualLoadClock()
        let s = try spec(["recordcount": "1000", "operationcount": "3000", "readproportion": "1", "updateproportion": "0", "seed": "7"])
        let plan = RunPlan(spec: s, phase: .run, threads: 1, targetRate: target, duration: 0)
        let binding = StallingBinding(clock: clock, serviceTime: service, stallAt: 500, stall: oneSecond)
        return try LoadDriver.run(plan: plan, binding: binding, bindingName: "double", clock: clock)
    }

    /// Open loop at 1000 ops/s: the 1 s stall shows in p99.9 from the intended start, not in service time.
    @Test func openLoopShowsTheStall() throws {
        let r = try run(target: 1000)
        #expect(r.openLoop)
        let intended = try #require(r.totals.merged(measure: .intended))
        let serviceTime = try #require(r.totals.merged(measure: .service))
        #expect(serviceTime.totalCount == 3000)
        #expect(intended.valueAtPercentile(99.9) >= 500_000_000)
        #expect(intended.valueAtPercentile(90) >= 100_000_000, "the backlog after the stall waits")
        #expect(serviceTime.valueAtPercentile(99.9) <= 2 * service)
        #expect(serviceTime.max >= oneSecond - oneSecond / 100)
        let text = Reports.ycsbText(r)
        #expect(text.contains("[Intended-READ], 99.9PercentileLatency(us), "))
        #expect(text.contains("[READ], 99.9PercentileLatency(us), "))
    }

    /// Catch-up is bounded: after the stall the backlog goes out at most 2× the scheduled rate.
    @Test func catchUpIsBounded() {
        var pacer = Pacer(start: 0, rate: 1000, catchUpFactor: 2)
        guard case .send = pacer.next(now: 0) else { Issue.record("first op must go"); return }
        // A 1 s stall: at t = 1 s, 1000 ops are overdue.
        var now: UInt64 = 1_000_000_000
        var sent = 0
        while now < 1_100_000_000 {
            switch pacer.next(now: now) {
            case .send: sent += 1
            case .wait(let until): now = until
            case .finished: Issue.record("unexpected end")
            }
        }
        // 100 ms at ≤ 2000 ops/s (+ the 1 ms burst allowance): about 200 ops, not 1000 at once.
        #expect(sent <= 205)
        #expect(sent >= 190)
    }

    /// Closed loop: no intended histograms, service p99.9 does not show a single stall.
    @Test func closedLoopServiceTimeHidesTheStall() throws {
        let r = try run(target: 0)
        #expect(!r.openLoop)
        let serviceTime = try #require(r.totals.merged(measure: .service))
        #expect(r.totals.merged(measure: .intended) == nil)
        #expect(serviceTime.valueAtPercentile(99.9) <= 2 * service)
        #expect(serviceTime.max >= oneSecond - oneSecond / 100)
    }
}
