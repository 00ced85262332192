import KVLoad
import KVWorkload
import Testing

@Suite("Embedded binding and run control")
struct EmbeddedBindingTests {
    @Test func loadThenRunWithDeletesReportsNotFound() throws {
        let store = try EmbeddedBinding()
        defer { try? store.close() }
        let s = try spec(["recordcount": "200", "operationcount": "4000", "readproportion": "0.5", "updateproportion": "0",
                          "deleteproportion": "0.5", "fieldcount": "3", "fieldlength": "10", "seed": "1"])
        let load = try LoadDriver.run(plan: RunPlan(spec: s, phase: .load, threads: 2), binding: store, bindingName: "embedded")
        #expect(load.totals.count(.insert, .ok) == 200)
        #expect(store.engine.count == 200)
        let run = try LoadDriver.run(plan: RunPlan(spec: s, phase: .run, threads: 2), binding: store, bindingName: "embedded")
        #expect(run.operations == 4000)
        // ~2000 deletes over 200 keys: at most 200 find a record, the rest find nothing, and reads miss.
        let deletes = run.totals.count(.delete, .ok) + run.totals.count(.delete, .notFound)
        #expect(deletes > 1800)
        #expect(run.totals.count(.delete, .ok) <= 200)
        #expect(run.totals.count(.delete, .notFound) >= deletes - 200)
        #expect(run.totals.count(.read, .notFound) > 0)
        #expect(store.engine.count == 200 - Int(run.totals.count(.delete, .ok)))
    }

    @Test func warmupOperationsAreNotRecorded() throws {
        let s = try spec(["recordcount": "100", "operationcount": "1000", "warmup": "300", "seed": "2"])
        let r = try LoadDriver.run(plan: RunPlan(spec: s, phase: .run, threads: 3), binding: NullBinding(), bindingName: "null")
        #expect(r.operations == 1000, "warm-up ops come on top of operationcount and are excluded")
    }

    @Test func phasesBoundTheRunAndReportTheOfferedRate() throws {
        let clock = ManualLoadClock()
        let s = try spec(["recordcount": "100", "operationcount": "0", "phases": "1s@1000,1s@1000..3000", "seed": "3"])
        let plan = RunPlan(spec: s, phase: .run, threads: 1)
        let binding = StallingBinding(clock: clock, serviceTime: 10_000, stallAt: -1, stall: 0)
        let r = try LoadDriver.run(plan: plan, binding: binding, bindingName: "double", clock: clock)
        #expect(r.openLoop)
        #expect(plan.offeredRate == 1500)
        // 1000 ops in the flat second, ~2000 in the ramp.
        #expect(abs(Int(r.operations) - 3000) <= 5)
    }
}
