import Benchmark
import KVWorkload

/// Cost of deciding the next operation (kind, key bytes, fields) — the generator must never be
/// the load generator's bottleneck (target: ≥ 10 M ops/s per thread with zipfian keys).
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .mega)

    func stream(_ extra: [String: String]) -> OperationStream {
        var values = ["recordcount": "1000000", "operationcount": "0", "seed": "1"]
        values.merge(extra) { $1 }
        let spec = try! WorkloadSpec(properties: WorkloadProperties(values))
        return OperationStream(spec: spec, phase: .run)
    }

    func run(_ name: String, _ extra: [String: String]) {
        Benchmark(name) { benchmark in
            var s = stream(extra)
            for _ in benchmark.scaledIterations {
                let op = s.next()
                if op.kind == .insert { s.acknowledgeInsert(keyNumber: op.keyNumber) }
                blackHole(op)
            }
        }
    }

    run("Workload.next.workloada.zipfian-exact", ["readproportion": "0.5", "updateproportion": "0.5", "requestdistribution": "zipfian"])
    run("Workload.next.workloada.zipfian-ycsb",
        ["readproportion": "0.5", "updateproportion": "0.5", "requestdistribution": "zipfian", "zipfianmode": "ycsb"])
    run("Workload.next.workloadc.uniform", ["readproportion": "1", "updateproportion": "0"])
    run("Workload.next.workloadd.latest",
        ["readproportion": "0.95", "updateproportion": "0", "insertproportion": "0.05", "requestdistribution": "latest"])

    Benchmark("Workload.zipfian-exact.rank") { benchmark in
        var z = ZipfianGenerator(itemCount: 1_000_000, theta: 0.99, random: WorkloadRandom(seed: 1))
        for _ in benchmark.scaledIterations { blackHole(z.next()) }
    }
}
