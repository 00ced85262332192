import KVLoad
import KVWorkload
import Testing

@Suite("Reproducibility")
struct ReproducibilityTests {
    func trace(seed: String) throws -> [Int: [String]] {
        let s = try spec(["recordcount": "1000", "operationcount": "6000", "readproportion": "0.5", "updateproportion": "0.4",
                          "insertproportion": "0.1", "requestdistribution": "zipfian", "seed": seed])
        let binding = RecordingBinding()
        _ = try LoadDriver.run(plan: RunPlan(spec: s, phase: .run, threads: 3), binding: binding, bindingName: "recording")
        return binding.logs
    }

    @Test func sameSeedSameOperations() throws {
        let a = try trace(seed: "11"), b = try trace(seed: "11"), c = try trace(seed: "12")
        #expect(a.values.map(\.count).reduce(0, +) == 6000)
        #expect(a == b)
        #expect(a != c)
    }
}
