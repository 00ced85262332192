import Testing
@testable import KVWorkload

@Suite("OperationStream")
struct OperationStreamTests {
    static func spec(_ values: [String: String]) throws -> WorkloadSpec {
        try WorkloadSpec(properties: WorkloadProperties(values))
    }

    static func ops(_ spec: WorkloadSpec, _ count: Int, thread: Int = 0, threads: Int = 1) -> [(Operation, String)] {
        var s = OperationStream(spec: spec, phase: .run, threadIndex: thread, threadCount: threads)
        return (0..<count).map { _ in
            let op = s.next()
            if op.kind == .insert { s.acknowledgeInsert(keyNumber: op.keyNumber) }
            return (op, s.currentKey)
        }
    }

    static let mixed: [String: String] = [
        "recordcount": "1000", "operationcount": "10000", "readproportion": "0.4", "updateproportion": "0.2",
        "insertproportion": "0.1", "scanproportion": "0.1", "readmodifywriteproportion": "0.1", "deleteproportion": "0.1",
        "requestdistribution": "zipfian", "seed": "12345",
    ]

    /// A pure mix makes no operation-kind draw and a one-field record no field draw. The kind chooser has its
    /// own random stream, so the operations are exactly those of a mix whose other kinds weigh next to nothing
    /// (every draw made, the same kind chosen).
    @Test("a pure mix and a one-field record skip their draws without changing any operation")
    func pureMixesSkipDrawsWithoutChangingOperations() throws {
        for (kind, key) in [("update", "updateproportion"), ("read", "readproportion")] {
            var base = ["recordcount": "5000", "fieldcount": "1", "requestdistribution": "zipfian", "seed": "77",
                        "readproportion": "0", "updateproportion": "0"]
            base[key] = "1"
            var almost = base
            almost[key == "readproportion" ? "updateproportion" : "readproportion"] = "1e-300"
            let pure = Self.ops(try Self.spec(base), 3_000), drawn = Self.ops(try Self.spec(almost), 3_000)
            #expect(pure.allSatisfy { $0.0.kind.ycsbName.lowercased() == kind })
            #expect(pure.map(\.0.kind) == drawn.map(\.0.kind))
            #expect(pure.map(\.0.keyNumber) == drawn.map(\.0.keyNumber))
            #expect(pure.map(\.1) == drawn.map(\.1))
            #expect(pure.map(\.0.writeField) == drawn.map(\.0.writeField))
        }
        var one = DiscreteChooser(weights: [0, 0, 3, 0], random: WorkloadRandom(seed: 9))
        #expect((0..<1000).allSatisfy { _ in one.next() == 2 })
        var field = UniformGenerator(lower: 7, upper: 7, random: WorkloadRandom(seed: 9))
        #expect((0..<1000).allSatisfy { _ in field.next() == 7 })
    }

    @Test("same seed → same operations, op for op; another seed or thread differs",
          arguments: ["uniform", "zipfian", "latest", "hotspot", "sequential", "exponential"])
    func reproducible(distribution: String) throws {
        var values = Self.mixed
        values["requestdistribution"] = distribution
        let spec = try Self.spec(values)
        let a = Self.ops(spec, 5000), b = Self.ops(spec, 5000)
        #expect(a.map(\.0) == b.map(\.0))
        #expect(a.map(\.1) == b.map(\.1))
        values["seed"] = "12346"
        let c = Self.ops(try Self.spec(values), 5000)
        #expect(a.map(\.0) != c.map(\.0))
        let t1 = Self.ops(spec, 5000, thread: 1, threads: 2)
        #expect(a.map(\.0) != t1.map(\.0))
    }

    @Test("the op mix follows the normalised proportions")
    func mix() throws {
        var values = Self.mixed
        values["readproportion"] = "4"  // weights, not fractions (YCSB normalises)
        values["updateproportion"] = "2"
        values["insertproportion"] = "1"
        values["scanproportion"] = "1"
        values["readmodifywriteproportion"] = "1"
        values["deleteproportion"] = "1"
        let ops = Self.ops(try Self.spec(values), 100_000)
        var counts = [Int](repeating: 0, count: 6)
        for (op, _) in ops { counts[Int(op.kind.rawValue)] += 1 }
        #expect(Statistics.pValue(observed: counts, probabilities: [0.4, 0.2, 0.1, 0.1, 0.1, 0.1]) > 0.001)
    }

    @Test("operations are well formed: keys, scan lengths, fields")
    func wellFormed() throws {
        var values = Self.mixed
        values["readallfields"] = "false"
        values["maxscanlength"] = "100"
        let spec = try Self.spec(values)
        let namer = spec.keyNamer
        for (op, key) in Self.ops(spec, 20_000) {
            #expect(key == namer.key(op.keyNumber))
            #expect(op.keyLength == key.utf8.count)
            switch op.kind {
            case .scan:
                #expect((1...100).contains(op.scanLength))
                #expect((0..<10).contains(op.readField))
            case .update, .readModifyWrite:
                #expect((0..<10).contains(op.writeField))
            case .insert:
                #expect(op.keyNumber >= 1000 && op.writeField == Operation.allFields)
            case .read:
                #expect((0..<10).contains(op.readField))
            case .delete:
                #expect(op.scanLength == 0)
            }
        }
    }

    @Test("reads never target unacknowledged inserts; acknowledged ones become readable")
    func acknowledgedReads() throws {
        let spec = try Self.spec(["recordcount": "100", "operationcount": "0", "readproportion": "0.5", "updateproportion": "0",
                                  "insertproportion": "0.5", "requestdistribution": "latest", "seed": "3"])
        var s = OperationStream(spec: spec, phase: .run)
        var pending: [Int64] = []
        var sawNewKeyRead = false
        for i in 0..<4000 {
            let op = s.next()
            if op.kind == .insert {
                pending.append(op.keyNumber)
            } else {
                #expect(op.keyNumber <= s.latestReadableKeyNumber)
                #expect(!pending.contains(op.keyNumber))
                if op.keyNumber >= 100 { sawNewKeyRead = true }
            }
            if i % 10 == 9 {  // acknowledge in batches, out of order
                for k in pending.reversed() {
                    let accepted = s.acknowledgeInsert(keyNumber: k)
                    #expect(accepted)
                }
                pending.removeAll()
            }
        }
        #expect(sawNewKeyRead)
        let rejected = !s.acknowledgeInsert(keyNumber: 5)
        #expect(rejected)  // a preloaded key is not an insert of this run
    }

    @Test("threads insert disjoint keynums; the load phase covers insertstart… exactly once")
    func threadPartitions() throws {
        let spec = try Self.spec(["recordcount": "1000", "insertstart": "100", "insertcount": "901", "operationcount": "1000",
                                  "readproportion": "0", "updateproportion": "0", "insertproportion": "1"])
        var loaded: [Int64] = []
        var runInserts = Set<Int64>()
        for t in 0..<3 {
            var load = OperationStream(spec: spec, phase: .load, threadIndex: t, threadCount: 3)
            for _ in 0..<load.operationLimit {
                let op = load.next()
                #expect(op.kind == .insert)
                loaded.append(op.keyNumber)
            }
            var run = OperationStream(spec: spec, phase: .run, threadIndex: t, threadCount: 3)
            #expect(run.operationLimit == (t == 0 ? 334 : 333))
            for _ in 0..<run.operationLimit {
                let op = run.next()
                #expect(op.keyNumber >= 1000)
                let accepted = run.acknowledgeInsert(keyNumber: op.keyNumber)
                #expect(accepted)
                runInserts.insert(op.keyNumber)
            }
        }
        #expect(loaded.sorted() == Array(100...1000))
        #expect(runInserts == Set(1000..<2000))
    }

    @Test("pooled values come from the pool's range with the field length law")
    func pooledValues() throws {
        let spec = try Self.spec(["recordcount": "10", "fieldlength": "64", "fieldlengthdistribution": "uniform", "minfieldlength": "8"])
        let pool = OperationStream.makeValuePool(for: spec, startRange: 4096)
        var s = OperationStream(spec: spec, phase: .run, valuePoolStartRange: 4096)
        for _ in 0..<1000 {
            let v = s.nextPooledValue()
            #expect((8...64).contains(v.length) && (0..<4096).contains(v.offset))
            #expect(pool.bytes(v).count == v.length)
        }
    }

    @Test("single-thread run keys match YCSB's scheme: user + fnv64(keynum)")
    func ycsbKeys() throws {
        let spec = try Self.spec(["recordcount": "1000", "operationcount": "100", "requestdistribution": "uniform"])
        var s = OperationStream(spec: spec, phase: .load)
        _ = s.next()
        #expect(s.currentKey == "user6284781860667377211")
    }
}
